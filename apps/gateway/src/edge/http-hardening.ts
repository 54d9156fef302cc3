import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cors from 'cors';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { OperationMetrics, helmetHeaders } from '@multipult/graphql';
import type { GatewayConfig } from '../config';
import { FederatedOperations } from '../federation/federated-operations';
import { EdgeAdmission } from './edge-admission';
import { GraphqlFastPath } from './graphql-fast-path';

/**
 * Security headers and CORS for browser clients (the gateway is the only service they reach), and
 * the GraphQL fast path in front of the Express app (GRAPHQL_FAST_PATH). Both apply before Express
 * runs anything: its body parser answers malformed and oversized bodies before any middleware
 * added here would run, and those answers need the same headers (and no X-Powered-By) as the rest.
 */
export function configureGatewayApp(app: INestApplication, config: GatewayConfig): void {
  const corsMiddleware = cors({
    origin: config.CORS_ORIGINS.length ? config.CORS_ORIGINS : false,
    credentials: true,
    exposedHeaders: ['X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
  });
  const securityHeaders = helmetHeaders();
  const expressApp = (app as NestExpressApplication).getHttpAdapter().getInstance();
  expressApp.disable('x-powered-by');

  const server = app.getHttpServer() as Server;
  const [express] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const toExpress = (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    corsMiddleware(req, res, () => express(req, res));
  };
  if (!config.GRAPHQL_FAST_PATH) {
    server.on('request', toExpress);
    return;
  }
  const fastPath = new GraphqlFastPath(app.get(FederatedOperations), app.get(EdgeAdmission), {
    path: '/graphql',
    bodyLimit: config.BODY_LIMIT,
    trustProxy: expressApp.get('trust proxy fn'),
    securityHeaders,
    cors: corsMiddleware,
    metrics: new OperationMetrics(config.METRICS_OPERATION_NAMES),
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => fastPath.handle(req, res, () => toExpress(req, res)));
}
