export { healthPayload, type HealthPayload } from './health.js';
export { DEFAULT_HOST, serviceHost, servicePort } from './listen.js';
