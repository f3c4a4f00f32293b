/** Service name reported by GET /health and used in log and error messages. */
export const SERVICE_NAME = 'users';

/** Port used when the PORT environment variable is unset or empty. */
export const DEFAULT_PORT = 3009;
