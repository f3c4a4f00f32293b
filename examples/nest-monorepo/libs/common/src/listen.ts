/** Host used when the HOST environment variable is unset or empty: all IPv4 interfaces. */
export const DEFAULT_HOST = '0.0.0.0';

/**
 * Returns the port from the PORT environment variable, or `defaultPort` when PORT
 * is unset or blank. Throws a RangeError naming the application when PORT is not
 * an integer from 1 to 65535.
 */
export function listenPort(name: string, defaultPort: number): number {
  const raw = process.env.PORT?.trim();
  if (raw === undefined || raw === '') {
    return defaultPort;
  }
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) {
    throw new RangeError(`${name}: invalid PORT "${raw}": expected an integer from 1 to 65535`);
  }
  return port;
}

/** Returns the host from the HOST environment variable, or DEFAULT_HOST when HOST is unset or blank. */
export function listenHost(): string {
  const host = process.env.HOST?.trim();
  return host ? host : DEFAULT_HOST;
}
