import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { GraphQLError, execute, subscribe } from 'graphql';
import { CloseCode, makeServer } from 'graphql-ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyAddr from 'proxy-addr';
import { WebSocket, WebSocketServer } from 'ws';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthPrincipal, actInTenant, bearerToken, revocationKeys } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { REALTIME_PATH, formatError, pickLocale, refuseUpgrade } from '@multipult/graphql';
import {
  RequestContext,
  RequestContextData,
  acceptRequestId,
  childTraceparent,
  gauge,
  parseAcceptLanguage,
} from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { NotificationsConfig } from '../config';
import { CLIENT_ID_PATTERN } from '../notifications/dto';
import { PRESENCE_TTL_MS, PresenceService } from '../presence/presence.service';
import { CloseCodes, RealtimeConnection } from './realtime-connection';
import type { RealtimeContext } from './realtime-context';

const TRUSTED_PROXIES = proxyAddr.compile(['loopback', 'linklocal', 'uniquelocal']);

type ConnectionParams = Record<string, unknown> & {
  authorization?: unknown;
  accessToken?: unknown;
  tenantId?: unknown;
  clientId?: unknown;
  locale?: unknown;
};

/**
 * GraphQL over WebSocket (graphql-ws protocol) on the service's HTTP server: authenticates in
 * connection_init, limits connections (total, per IP), messages (rate, size) and idle sockets,
 * closes revoked or expired sessions' sockets, and drains on shutdown so clients reconnect to
 * another instance. Operations run against the subgraph's own schema and resolvers.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RealtimeServer.name);
  private readonly connections = new Set<RealtimeConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly wss: WebSocketServer;
  private timers: NodeJS.Timeout[] = [];
  private draining = false;

  constructor(
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly presence: PresenceService,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.REALTIME_MAX_MESSAGE_BYTES, perMessageDeflate: false });
    const connections = this.connections;
    gauge({
      name: 'notifications_ws_connections',
      help: 'Open /graphql/ws connections',
      labelNames: [],
      collect() {
        this.set(connections.size);
      },
    });
  }

  onApplicationBootstrap(): void {
    const server = makeServer<ConnectionParams, { connection: RealtimeConnection; request: IncomingMessage }>({
      // The GraphQL module's schema host is not exported to feature modules.
      schema: this.moduleRef.get(GraphQLSchemaHost, { strict: false }).schema,
      connectionInitWaitTimeout: this.config.REALTIME_INIT_TIMEOUT_MS,
      onConnect: (ctx) => this.authenticate(ctx.extra.connection, ctx.extra.request, ctx.connectionParams ?? {}),
      context: (ctx): RealtimeContext => ({
        req: { headers: {}, principal: Promise.resolve(ctx.extra.connection.principal) },
        connection: ctx.extra.connection,
        locale: ctx.extra.connection.locale,
      }),
      execute: (args) => RequestContext.run(this.requestContext(args.contextValue as RealtimeContext), () => execute(args)),
      subscribe: (args) => RequestContext.run(this.requestContext(args.contextValue as RealtimeContext), () => subscribe(args)),
      onNext: (ctx, _id, _payload, _args, result) =>
        result.errors?.length
          ? RequestContext.run(this.requestContext({ connection: ctx.extra.connection } as RealtimeContext), () => ({
              ...result,
              errors: result.errors?.map((error) => formatError((error as GraphQLError).toJSON(), error)),
            }))
          : undefined,
    });

    this.wss.on('connection', (socket: WebSocket, request: IncomingMessage, connection: RealtimeConnection) => {
      this.track(connection);
      socket.on('pong', () => (connection.alive = true));
      socket.on('error', (error) => this.logger.debug(`Socket ${connection.id}: ${error.message}`));
      const closed = server.opened(
        {
          protocol: socket.protocol,
          send: (data) =>
            new Promise((resolve, reject) => {
              if (socket.readyState !== socket.OPEN) return resolve();
              socket.send(data, (error) => (error ? reject(error) : resolve()));
            }),
          close: (code, reason) => connection.close(code ?? CloseCode.InternalServerError, reason ?? ''),
          onMessage: (handle) =>
            socket.on('message', async (data) => {
              if (!connection.allowMessage(this.config.REALTIME_MAX_MESSAGES_PER_SECOND)) {
                connection.close(CloseCodes.policyViolation, 'Too many messages');
                return;
              }
              try {
                await handle(String(data));
              } catch (error) {
                this.logger.warn(`Message on ${connection.id} failed: ${(error as Error).message}`);
                connection.close(CloseCode.InternalServerError, 'Internal server error');
              }
            }),
        },
        { connection, request },
      );
      socket.once('close', (code, reason) => {
        this.untrack(connection);
        void closed(code, reason.toString());
      });
    });

    const httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(request, socket, head));
    this.timers = [
      setInterval(() => this.heartbeat(), this.config.REALTIME_HEARTBEAT_MS),
      setInterval(() => void this.closeRevoked(), this.config.REALTIME_REVOCATION_CHECK_MS),
      setInterval(() => void this.refreshPresence(), PRESENCE_TTL_MS / 3),
    ];
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Stops taking sockets and closes the open ones with 1001 so clients reconnect elsewhere. On
   * module destroy, because the GraphQL module's own destroy hook (Apollo's HTTP drain, which runs
   * after this one) cuts every socket of the HTTP server without a close frame.
   */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    this.timers.forEach(clearInterval);
    const open = [...this.connections];
    for (const connection of open) connection.close(CloseCodes.goingAway, 'Server shutting down; reconnect');
    const deadline = Date.now() + 5_000;
    while (this.connections.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    if (open.length) this.logger.log(`Drained ${open.length} WebSocket connection(s)`);
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== REALTIME_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (this.draining) return refuseUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '1' });
    const ip = proxyAddr(request as Parameters<typeof proxyAddr>[0], TRUSTED_PROXIES);
    if (this.connections.size >= this.config.REALTIME_MAX_CONNECTIONS) {
      this.logger.warn(`Refused a WebSocket from ${ip}: ${this.connections.size} connections open`);
      return refuseUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '5' });
    }
    if ((this.perIp.get(ip) ?? 0) >= this.config.REALTIME_MAX_CONNECTIONS_PER_IP) {
      this.logger.warn(`Refused a WebSocket from ${ip}: per-IP limit reached`);
      return refuseUpgrade(socket, 429, 'Too Many Requests', { 'Retry-After': '5' });
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new RealtimeConnection(ws, ip, request.headers['user-agent']);
      this.wss.emit('connection', ws, request, connection);
    });
  }

  /** connection_init: a valid, unrevoked access token (4401 otherwise), a tenant the user belongs to (4403 otherwise). */
  private async authenticate(connection: RealtimeConnection, request: IncomingMessage, params: ConnectionParams): Promise<boolean> {
    const token =
      typeof params.authorization === 'string'
        ? bearerToken(params.authorization)
        : typeof params.accessToken === 'string'
          ? params.accessToken
          : undefined;
    let principal: AuthPrincipal;
    try {
      if (!token) throw new Error('no access token in connection_init');
      principal = await this.verifier.verify(token);
    } catch (error) {
      this.logger.log(`WebSocket ${connection.id} from ${connection.ip} refused: ${(error as Error).message}`);
      connection.close(CloseCodes.unauthorized, 'Unauthorized');
      return false;
    }
    try {
      if (typeof params.tenantId === 'string') principal = actInTenant(principal, params.tenantId);
    } catch {
      connection.close(CloseCodes.forbidden, 'Forbidden');
      return false;
    }
    const locales = [typeof params.locale === 'string' ? params.locale : '', ...parseAcceptLanguage(request.headers['accept-language'])];
    connection.locale = pickLocale(locales.filter(Boolean));
    connection.clientId = typeof params.clientId === 'string' && CLIENT_ID_PATTERN.test(params.clientId) ? params.clientId : null;
    connection.authenticated(principal, () => connection.close(CloseCodes.unauthorized, 'Token expired'));
    this.presence.connected(principal.userId, connection.id).catch((error: Error) => this.logger.warn(`Presence: ${error.message}`));
    return true;
  }

  private track(connection: RealtimeConnection): void {
    this.connections.add(connection);
    this.perIp.set(connection.ip, (this.perIp.get(connection.ip) ?? 0) + 1);
  }

  private untrack(connection: RealtimeConnection): void {
    connection.disposed();
    if (!this.connections.delete(connection)) return;
    if (connection.principal) {
      this.presence.disconnected(connection.principal.userId, connection.id).catch((error: Error) => this.logger.warn(`Presence: ${error.message}`));
    }
    const left = (this.perIp.get(connection.ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(connection.ip, left);
    else this.perIp.delete(connection.ip);
  }

  private async refreshPresence(): Promise<void> {
    const open = [...this.connections].flatMap((connection) =>
      connection.principal ? [{ userId: connection.principal.userId, connectionId: connection.id }] : [],
    );
    await this.presence.refresh(open).catch((error: Error) => this.logger.warn(`Presence refresh: ${error.message}`));
  }

  /** A socket that did not answer the previous ping is gone (a dead peer never sends a close frame). */
  private heartbeat(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.socket.terminate();
        continue;
      }
      connection.alive = false;
      connection.socket.ping();
    }
  }

  /**
   * Compares every authenticated socket with the revocation marks auth sets in Redis (one MGET per
   * pass), as token verification would: a revoked session's sockets close within one interval.
   */
  private async closeRevoked(): Promise<void> {
    const open = [...this.connections].flatMap((connection) => (connection.principal ? [{ connection, principal: connection.principal }] : []));
    if (!open.length) return;
    // One key per session and per user, however many sockets share them.
    const keys = [...new Set(open.flatMap(({ principal }) => [revocationKeys.session(principal.sessionId), revocationKeys.userTokensBefore(principal.userId)]))];
    try {
      const values = await this.store.getMany(keys);
      const marks = new Map(keys.map((key, index) => [key, values[index]]));
      for (const { connection, principal } of open) {
        const sessionMark = marks.get(revocationKeys.session(principal.sessionId));
        const userMark = marks.get(revocationKeys.userTokensBefore(principal.userId));
        // As in isRevoked (libs/auth): the user mark compares with iat at second precision.
        if (sessionMark != null || (userMark != null && principal.issuedAt.getTime() + 1000 <= Number(userMark))) {
          connection.close(CloseCodes.forbidden, 'Session revoked');
        }
      }
    } catch (error) {
      this.logger.warn(`Revocation check failed: ${(error as Error).message}`);
    }
  }

  private requestContext(context: Pick<RealtimeContext, 'connection'>): RequestContextData {
    const connection = context.connection;
    return {
      requestId: acceptRequestId(undefined),
      traceparent: childTraceparent(undefined),
      userId: connection?.principal?.userId,
      tenantId: connection?.principal?.tenantId ?? undefined,
      sessionId: connection?.principal?.sessionId,
      locales: connection ? [connection.locale] : [],
      clientIp: connection?.ip,
      userAgent: connection?.userAgent,
    };
  }
}
