import { DynamicModule, Inject, Injectable, Module, ModuleMetadata, OnApplicationBootstrap, OnModuleDestroy, Optional, Type } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { ExecutionArgs, ExecutionResult, execute, subscribe } from 'graphql';
import { CloseCode, makeServer } from 'graphql-ws';
import type { IncomingMessage, Server } from 'node:http';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { IllFormedTextError, operationTextProblems } from '@multipult/graphql';
import { RequestContext, RequestContextData, acceptRequestId, childTraceparent } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { RealtimeConfig, realtimeEnv } from './realtime-config';
import { ConnectionParams, RealtimeConnection } from './realtime-connection';
import { formatOperationErrors } from './operation-errors';
import type { RealtimeContext } from './realtime-context';
import { RealtimeHooks, RealtimeSockets } from './realtime-sockets';

export const REALTIME_HOOKS = Symbol('REALTIME_HOOKS');

/** Only the gateway (or a proxy on the same network) connects to a subgraph; its X-Forwarded-For names the client. */
const TRUSTED_PROXIES = ['loopback', 'linklocal', 'uniquelocal'];

/** The GraphQL context of an operation on the socket. */
function requestContext(connection: RealtimeConnection | undefined): RequestContextData {
  return {
    requestId: acceptRequestId(undefined),
    traceparent: childTraceparent(connection?.traceparent),
    userId: connection?.principal?.userId,
    tenantId: connection?.principal?.tenantId ?? undefined,
    sessionId: connection?.principal?.sessionId,
    locales: connection ? [connection.locale] : [],
    clientIp: connection?.ip,
    userAgent: connection?.userAgent,
  };
}

/** Text no service can keep is refused over the socket as over HTTP (wellFormedTextPlugin), before any resolver. */
function illFormedTextRefusal(args: ExecutionArgs): ExecutionResult | undefined {
  const problems = operationTextProblems(args.document, (args.variableValues ?? {}) as Record<string, unknown>);
  return problems.length ? { errors: [new IllFormedTextError(problems)] } : undefined;
}

/**
 * A subgraph's GraphQL over WebSocket (graphql-ws protocol) on its HTTP server: the shared socket
 * handling (RealtimeSockets: auth in connection_init, limits, heartbeat, revocation, drain) with
 * operations run against the subgraph's own schema and resolvers. The gateway routes clients'
 * subscriptions here, one connection per client socket.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sockets: RealtimeSockets;
  private server?: ReturnType<typeof makeServer<ConnectionParams, { connection: RealtimeConnection; request: IncomingMessage }>>;

  constructor(
    @InjectConfig() private readonly config: RealtimeConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(ACCESS_TOKEN_VERIFIER) verifier: AccessTokenVerifier,
    @Inject(FAST_STORE) store: FastStore,
    @Optional() @Inject(REALTIME_HOOKS) hooks?: RealtimeHooks,
  ) {
    const missing = Object.keys(realtimeEnv).filter((name) => (config as unknown as Record<string, unknown>)[name] === undefined);
    if (missing.length) throw new Error(`RealtimeServerModule needs ${missing.join(', ')}: add realtimeEnv to the config schema`);
    this.sockets = new RealtimeSockets({
      config,
      verifier,
      store,
      hooks,
      trustProxy: TRUSTED_PROXIES,
      accept: (connection, request, receive) => this.accept(connection, request, receive),
    });
  }

  onApplicationBootstrap(): void {
    this.server = makeServer<ConnectionParams, { connection: RealtimeConnection; request: IncomingMessage }>({
      // The GraphQL module's schema host is not exported to feature modules.
      schema: this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema,
      connectionInitWaitTimeout: this.config.REALTIME_INIT_TIMEOUT_MS,
      onConnect: (ctx) => this.sockets.authenticate(ctx.extra.connection, ctx.extra.request, ctx.connectionParams ?? {}),
      context: (ctx): RealtimeContext => ({
        req: { headers: {}, principal: Promise.resolve(ctx.extra.connection.principal) },
        connection: ctx.extra.connection,
        locale: ctx.extra.connection.locale,
      }),
      execute: (args) =>
        RequestContext.run(requestContext((args.contextValue as RealtimeContext).connection), () => illFormedTextRefusal(args) ?? execute(args)),
      subscribe: (args) =>
        RequestContext.run(requestContext((args.contextValue as RealtimeContext).connection), () => illFormedTextRefusal(args) ?? subscribe(args)),
      onNext: (ctx, _id, _payload, _args, result) =>
        result.errors?.length
          ? RequestContext.run(requestContext(ctx.extra.connection), () => ({ ...result, errors: formatOperationErrors(result.errors ?? [], 'result') }))
          : undefined,
      onError: (ctx, _id, _payload, errors) => RequestContext.run(requestContext(ctx.extra.connection), () => formatOperationErrors(errors, 'refusal')),
    });
    this.sockets.attach(this.adapterHost.httpAdapter.getHttpServer() as Server);
  }

  /**
   * On module destroy, because the GraphQL module's own destroy hook (Apollo's HTTP drain, which
   * runs after this one) cuts every socket of the HTTP server without a close frame.
   */
  async onModuleDestroy(): Promise<void> {
    await this.sockets.drain();
  }

  private accept(connection: RealtimeConnection, request: IncomingMessage, receive: (handle: (message: string) => Promise<void>) => void): void {
    const server = this.server;
    if (!server) return connection.close(CloseCode.InternalServerError, 'Not ready');
    const socket = connection.socket;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => connection.send(data),
        close: (code, reason) => connection.close(code ?? CloseCode.InternalServerError, reason ?? ''),
        onMessage: receive,
      },
      { connection, request },
    );
    socket.once('close', (code, reason) => void closed(code, reason.toString()));
  }
}

/**
 * GraphQL over WebSocket on /graphql/ws for a subgraph. `hooks` (a provider class implementing
 * RealtimeHooks, with `imports` for what it needs) adds the service's own connection handling.
 * Import it in the app module, after the GraphQL module: Nest destroys modules nearer the root,
 * and later ones among equals, first, and the drain must run before Apollo's cuts the sockets.
 */
@Module({})
export class RealtimeServerModule {
  static forRoot(options: { hooks?: Type<RealtimeHooks>; imports?: ModuleMetadata['imports'] } = {}): DynamicModule {
    return {
      module: RealtimeServerModule,
      imports: options.imports ?? [],
      providers: [RealtimeServer, ...(options.hooks ? [{ provide: REALTIME_HOOKS, useClass: options.hooks }] : [])],
    };
  }
}
