import { Controller, Get } from '@nestjs/common';
import { healthPayload, type HealthPayload } from '@ngwenya/shared';
import { SERVICE_NAME } from './service.config.js';

@Controller('health')
export class HealthController {
  @Get()
  getHealth(): HealthPayload {
    return healthPayload(SERVICE_NAME);
  }
}
