import { Injectable } from '@nestjs/common';

/** Body of every application's `GET /health` response. */
export interface HealthPayload {
  status: 'ok';
  service: string;
  /** Whole seconds since this process started, from `process.uptime()`. */
  uptimeSeconds: number;
}

@Injectable()
export class HealthService {
  /** Builds the `GET /health` response body for `service`. */
  payload(service: string): HealthPayload {
    return { status: 'ok', service, uptimeSeconds: Math.floor(process.uptime()) };
  }
}
