import { Module } from '@nestjs/common';
import { CommonModule } from '@app/common';
import { HealthController } from './health.controller.js';

@Module({
  imports: [CommonModule],
  controllers: [HealthController],
})
export class OrdersModule {}
