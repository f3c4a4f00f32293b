/** Body of every service's `GET /health` response. */
export interface HealthPayload {
  status: 'ok';
  service: string;
  /** Whole seconds since this process started, from `process.uptime()`. */
  uptimeSeconds: number;
  /** ISO 8601 time at which the payload was built. */
  timestamp: string;
}

/** Builds the `GET /health` response body for `service`. */
export function healthPayload(service: string): HealthPayload {
  return {
    status: 'ok',
    service,
    uptimeSeconds: Math.floor(process.uptime()),
    timestamp: new Date().toISOString(),
  };
}
