import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { listenHost, listenPort } from '@app/common';
import { GatewayModule } from './gateway.module.js';

/** Port used when the PORT environment variable is unset or empty. */
const DEFAULT_PORT = 3000;

async function bootstrap(): Promise<void> {
  const port = listenPort('gateway', DEFAULT_PORT);
  const host = listenHost();

  const app = await NestFactory.create(GatewayModule);
  app.enableShutdownHooks();
  await app.listen(port, host);

  new Logger('Bootstrap').log(`gateway listening on ${host}:${port}`);
}

await bootstrap();
