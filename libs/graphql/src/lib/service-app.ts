import { INestApplication, Logger as NestLogger } from '@nestjs/common';
import type { ApolloServer } from '@apollo/server';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GRAPHQL_MODULE_OPTIONS, GraphQLModule } from '@nestjs/graphql';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { loadConfig } from '@multipult/config';
import { requestContextMiddleware, startMetricsServer } from '@multipult/observability';
import type { ServiceConfigSchema, ServiceDefinition, ServiceEnv } from '../bootstrap';
import { BodyProblem, bodyParserErrorResponse } from './http-errors';
import { SubgraphFastPath, SubgraphFastPathOptions } from './graphql-fast-path';
import { GRAPHQL_PATH } from './subgraph-options';
import { wellFormedTextMiddleware } from './text-input';
import { createValidationPipe } from './validation';

export interface ServiceAppOptions {
  /** Largest accepted JSON body, in body-parser syntax (`100kb`, `1mb`). */
  bodyLimit: string;
  /** Express `trust proxy` setting, so `req.ip` is the client behind the gateway or ingress. */
  trustProxy?: boolean | number | string;
  /** GraphQL POSTs served by the subgraph fast path instead of Express (GRAPHQL_FAST_PATH; subgraphs only). */
  graphqlFastPath?: boolean;
}

/** body-parser's error types by what they say about the request (its other types are malformed bodies). */
function bodyProblemOf(type: string): BodyProblem {
  if (type === 'entity.too.large' || type === 'parameters.too.many') return 'too-large';
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return 'unsupported-encoding';
  return 'malformed';
}

function bodyParserErrorHandler(limit: string) {
  return (error: { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction): void => {
    if (!error?.type) return next(error);
    const { status, body } = bodyParserErrorResponse(bodyProblemOf(error.type), limit);
    res.status(status).json(body);
  };
}

/** What every service applies to its Nest app, in main.ts and in tests alike. */
export function configureServiceApp(app: INestApplication, options: ServiceAppOptions): void {
  const expressApp = app as NestExpressApplication;
  expressApp.disable('x-powered-by');
  // First, so every answer carries the security headers, those written by the middleware below (400, 413) too.
  expressApp.use(helmet());
  expressApp.use(requestContextMiddleware);
  expressApp.set('trust proxy', options.trustProxy ?? 'loopback, linklocal, uniquelocal');
  // The bytes as received stay on req.rawBody (Nest's RawBodyRequest), for routes that verify a signature of the body.
  expressApp.use(
    express.json({
      limit: options.bodyLimit,
      verify: (req, _res, body) => {
        (req as { rawBody?: Buffer }).rawBody = body;
      },
    }),
  );
  expressApp.use(bodyParserErrorHandler(options.bodyLimit));
  expressApp.use(wellFormedTextMiddleware(GRAPHQL_PATH));
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.useGlobalPipes(createValidationPipe());
  // Only what an orchestrator or a terminal sends to stop a process: Nest's default list also ends it on
  // SIGUSR2 and SIGHUP, which ops send for a heap snapshot (--heapsnapshot-signal) or to a live process.
  expressApp.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  if (options.graphqlFastPath) serveGraphqlOffExpress(app, options.bodyLimit);
}

/**
 * Puts the subgraph fast path in front of the Express app: the server's request listener becomes
 * the fast path, which hands Express what it does not serve. Apollo Server starts with the app, so
 * it is looked up at the first GraphQL POST (until then Express answers).
 */
function serveGraphqlOffExpress(app: INestApplication, bodyLimit: string): void {
  const server = app.getHttpServer() as Server;
  const [expressListener] = server.listeners('request') as RequestListener[];
  let apolloServer: ApolloServer | undefined;
  let context: SubgraphFastPathOptions['context'] | undefined;
  const fastPath = new SubgraphFastPath({
    path: GRAPHQL_PATH,
    bodyLimit,
    trustProxy: (app as NestExpressApplication).getHttpAdapter().getInstance().get('trust proxy fn'),
    apolloServer: () => (apolloServer ??= app.get<GraphQLModule<ApolloDriver>>(GraphQLModule, { strict: false }).graphQlAdapter.instance),
    // The module's own context function: whatever it starts per request (token verification) runs here too.
    context: (args) => (context ??= app.get<ApolloDriverConfig>(GRAPHQL_MODULE_OPTIONS, { strict: false }).context as SubgraphFastPathOptions['context'])(args),
  });
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => fastPath.handle(req, res, () => expressListener(req, res)));
}

export async function createServiceApp(
  module: Parameters<typeof NestFactory.create>[0],
  options: ServiceAppOptions,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true, bodyParser: false });
  configureServiceApp(app, options);
  return app;
}

/** Loads the config, creates the app, listens and says where: `bootstrapService`'s lazily loaded half. */
export async function launchService<S extends ServiceConfigSchema>(
  service: string,
  definition: ServiceDefinition<S>,
  env: ServiceEnv,
): Promise<INestApplication> {
  const config = loadConfig(definition.configSchema, env);
  const app = await createServiceApp(definition.appModule(config), definition.appOptions(config));
  definition.configure?.(app, config);
  if (config.METRICS_PORT !== 0 && config.METRICS_PORT === config.PORT) {
    throw new Error(`METRICS_PORT (${config.METRICS_PORT}) must differ from PORT: metrics are not served on the public port`);
  }
  await listenService(app, config.PORT, config.HOST);
  const metrics = await startMetricsServer(config.METRICS_PORT, config.HOST);
  (app.getHttpServer() as Server).once('close', () => void metrics.close());
  const bootstrapLogger = new NestLogger('Bootstrap');
  bootstrapLogger.log(`${definition.title ?? service} listening on http://${config.HOST}:${config.PORT}/graphql`);
  bootstrapLogger.log(`${definition.title ?? service} metrics on http://${config.HOST}:${metrics.port}/metrics`);
  return app;
}

/**
 * Keeps idle keep-alive connections open longer than the callers' pools keep them (the gateway's
 * subgraph client, load balancers at 60 s), so a caller never sends a request on a socket this
 * server is closing ("socket hang up"). Node's default is 5 s.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function listenService(app: INestApplication, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
}
