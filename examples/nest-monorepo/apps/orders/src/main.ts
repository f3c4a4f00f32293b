import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { listenHost, listenPort } from '@app/common';
import { OrdersModule } from './orders.module.js';

/** Port used when the PORT environment variable is unset or empty. */
const DEFAULT_PORT = 3001;

async function bootstrap(): Promise<void> {
  const port = listenPort('orders', DEFAULT_PORT);
  const host = listenHost();

  const app = await NestFactory.create(OrdersModule);
  app.enableShutdownHooks();
  await app.listen(port, host);

  new Logger('Bootstrap').log(`orders listening on ${host}:${port}`);
}

await bootstrap();
