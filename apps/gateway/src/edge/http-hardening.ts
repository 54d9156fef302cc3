import type { INestApplication } from '@nestjs/common';
import helmet from 'helmet';
import type { GatewayConfig } from '../config';

/** Security headers and CORS for browser clients; the gateway is the only service they reach. */
export function configureGatewayApp(app: INestApplication, config: GatewayConfig): void {
  app.use(helmet());
  app.enableCors({
    origin: config.CORS_ORIGINS.length ? config.CORS_ORIGINS : false,
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
  });
}
