import './instrumentation';
import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import helmet from 'helmet';
import { loadConfig } from '@multipult/config';
import { createServiceApp, listenService, runServiceMain } from '@multipult/graphql';
import { AppModule, GATEWAY_SERVICE } from './app.module';
import { gatewayConfigSchema } from './config';

/** Starts the gateway; the embedded launcher calls this to run every service in one process. */
export async function start(env: Record<string, string | undefined> = process.env): Promise<INestApplication> {
  const config = loadConfig(gatewayConfigSchema, env);
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
  await listenService(app, config.PORT, config.HOST);
  new Logger('Bootstrap').log(`gateway listening on http://${config.HOST}:${config.PORT}/graphql`);
  return app;
}

if (require.main === module) runServiceMain(GATEWAY_SERVICE, () => start());
