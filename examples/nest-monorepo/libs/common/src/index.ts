export * from './common.module.js';
export * from './health.service.js';
export * from './listen.js';
