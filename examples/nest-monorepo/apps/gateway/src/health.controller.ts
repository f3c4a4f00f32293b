import { Controller, Get } from '@nestjs/common';
import { HealthService, type HealthPayload } from '@app/common';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  getHealth(): HealthPayload {
    return this.health.payload('gateway');
  }
}
