import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { serviceHost, servicePort } from '@ngwenya/shared';
import { AppModule } from './app.module.js';
import { DEFAULT_PORT, SERVICE_NAME } from './service.config.js';

async function bootstrap(): Promise<void> {
  const port = servicePort(SERVICE_NAME, DEFAULT_PORT);
  const host = serviceHost();

  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);

  new Logger('Bootstrap').log(`${SERVICE_NAME} listening on ${host}:${port}`);
}

await bootstrap();
