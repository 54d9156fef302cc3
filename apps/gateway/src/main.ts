import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import helmet from 'helmet';
import { loadConfigOrExit } from '@multipult/config';
import { createServiceApp } from '@multipult/graphql';
import { AppModule, GATEWAY_SERVICE } from './app.module';
import { gatewayConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfigOrExit(gatewayConfigSchema, GATEWAY_SERVICE);
  const app = await createServiceApp(AppModule.forRoot(config), {
    bodyLimit: config.BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
  });
  app.use(helmet());
  app.enableCors({
    origin: config.CORS_ORIGINS.length ? config.CORS_ORIGINS : false,
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
  });
  await app.listen(config.PORT, config.HOST);
  new Logger('Bootstrap').log(`gateway listening on http://${config.HOST}:${config.PORT}/graphql`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${GATEWAY_SERVICE}: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
