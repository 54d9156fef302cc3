import { Logger } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import proxyAddr from 'proxy-addr';
import { WebSocket, WebSocketServer } from 'ws';
import { AccessTokenVerifier, AuthPrincipal, actInTenant, bearerToken, revocationCheckOf, revokedByUserMark } from '@multipult/auth';
import { pickLocale, refuseUpgrade } from '@multipult/graphql';
import { gauge, parseAcceptLanguage } from '@multipult/observability';
import type { FastStore } from '@multipult/redis';
import type { RealtimeConfig } from './realtime-config';
import { CloseCodes, ConnectionParams, REALTIME_PATH, RealtimeConnection } from './realtime-connection';

/** What a service adds to the generic connection handling (e.g. notifications' presence). */
export interface RealtimeHooks {
  /** After connection_init authenticated the socket. */
  connected?(connection: RealtimeConnection): Promise<void>;
  /** When an authenticated socket closed. */
  disconnected?(connection: RealtimeConnection): Promise<void>;
  /** Runs every `intervalMs` with the authenticated connections (e.g. to refresh marks that expire). */
  periodic?: { intervalMs: number; run(connections: RealtimeConnection[]): Promise<void> };
}

/** An HTTP refusal of the upgrade, decided before the socket is accepted. */
export interface UpgradeRefusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

export interface RealtimeSocketsOptions {
  config: RealtimeConfig;
  verifier: AccessTokenVerifier;
  store: FastStore;
  /** Proxies whose X-Forwarded-For is believed when resolving the client's IP. */
  trustProxy: string[];
  hooks?: RealtimeHooks;
  /** A further check before accepting an upgrade (the gateway's per-IP rate limit); `outcome` labels are counted by the caller. */
  admit?(request: IncomingMessage, ip: string): Promise<UpgradeRefusal | undefined>;
  /** Runs the protocol on an accepted socket; `receive` delivers its messages within the rate limit. */
  accept(connection: RealtimeConnection, request: IncomingMessage, receive: (handle: (message: string) => Promise<void>) => void): void;
}

/** Revocation marks read per round trip of a pass: sockets are served between the reads. */
const REVOCATION_KEYS_PER_READ = 1_000;
/**
 * Sockets pinged in one turn of the event loop. A heartbeat over 10 000 sockets in one turn held
 * every message behind it for a third of a second; in slices spread over a third of the interval
 * it never holds them for more than a few milliseconds.
 */
const HEARTBEAT_SLICE = 500;

/** The connections of every RealtimeSockets of the process, with the limit each enforces. */
const connectionGauges = new Map<Set<RealtimeConnection>, number>();

/**
 * The part of /graphql/ws every endpoint shares, whatever it does with operations: upgrades (path,
 * total and per-IP limits, drain), message size and rate limits, heartbeat, authentication in
 * connection_init (4401 without a valid token, 4403 for a tenant the user is not in), token expiry,
 * closing revoked sessions' sockets (4403), and draining with 1001 on shutdown.
 */
export class RealtimeSockets {
  private readonly logger = new Logger('RealtimeSockets');
  private readonly connections = new Set<RealtimeConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly wss: WebSocketServer;
  private readonly trust: ReturnType<typeof proxyAddr.compile>;
  private timers: NodeJS.Timeout[] = [];
  private draining = false;
  /**
   * Authenticated sockets by the revocation mark that would close them (their session's, their
   * user's), kept as sockets come and go: a pass reads each mark once and touches only the sockets
   * of marks that are set, instead of building every socket's keys each time.
   */
  private readonly bySessionMark = new Map<string, Set<RealtimeConnection>>();
  private readonly byUserMark = new Map<string, Set<RealtimeConnection>>();
  private readonly revocationChecks = new Map<RealtimeConnection, ReturnType<typeof revocationCheckOf>>();
  private sweeping = false;
  private beating = false;

  constructor(private readonly options: RealtimeSocketsOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.config.REALTIME_MAX_MESSAGE_BYTES, perMessageDeflate: false });
    this.trust = proxyAddr.compile(options.trustProxy);
    connectionGauges.set(this.connections, options.config.REALTIME_MAX_CONNECTIONS);
    gauge({
      name: 'realtime_ws_connections',
      help: 'Open /graphql/ws connections',
      labelNames: [],
      collect() {
        this.set([...connectionGauges.keys()].reduce((sum, connections) => sum + connections.size, 0));
      },
    });
    // Alerts compare connections with this, so the threshold follows REALTIME_MAX_CONNECTIONS.
    gauge({
      name: 'realtime_ws_connections_limit',
      help: 'Open /graphql/ws connections allowed (REALTIME_MAX_CONNECTIONS) before upgrades are refused with 503',
      labelNames: [],
      collect() {
        this.set([...connectionGauges.values()].reduce((sum, limit) => sum + limit, 0));
      },
    });
  }

  get size(): number {
    return this.connections.size;
  }

  /** Takes /graphql/ws upgrades of the server and starts the periodic checks. */
  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(request, socket, head).catch((error: Error) => {
        this.logger.warn(`WebSocket upgrade failed: ${error.message}`);
        if (socket.writable) refuseUpgrade(socket, 500, 'Internal Server Error');
      });
    });
    const { config, hooks } = this.options;
    this.timers = [
      setInterval(() => void this.heartbeat(), config.REALTIME_HEARTBEAT_MS),
      setInterval(() => void this.closeRevoked(), config.REALTIME_REVOCATION_CHECK_MS),
    ];
    if (hooks?.periodic) {
      const periodic = hooks.periodic;
      this.timers.push(
        setInterval(() => {
          periodic.run(this.authenticatedConnections()).catch((error: Error) => this.logger.warn(`Periodic realtime hook: ${error.message}`));
        }, periodic.intervalMs),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Stops taking sockets and closes the open ones with 1001 so clients reconnect elsewhere (before
   * an HTTP drain cuts every socket of the server without a close frame).
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.timers.forEach(clearInterval);
    const open = [...this.connections];
    for (const connection of open) connection.close(CloseCodes.goingAway, 'Server shutting down; reconnect');
    const deadline = Date.now() + 5_000;
    while (this.connections.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    connectionGauges.delete(this.connections);
    if (open.length) this.logger.log(`Drained ${open.length} WebSocket connection(s)`);
  }

  /**
   * connection_init: a valid, unrevoked access token (4401 otherwise), a tenant the user belongs to
   * (4403 otherwise). False (and the socket closing) when refused.
   */
  async authenticate(connection: RealtimeConnection, request: IncomingMessage, params: ConnectionParams): Promise<boolean> {
    let principal: AuthPrincipal;
    try {
      // Inside the try: an authorization that is not a bearer token is refused like a bad token (4401), not a failure (1011).
      const token =
        typeof params.authorization === 'string'
          ? bearerToken(params.authorization)
          : typeof params.accessToken === 'string'
            ? params.accessToken
            : undefined;
      if (!token) throw new Error('no access token in connection_init');
      principal = await this.options.verifier.verify(token);
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
    connection.params = params;
    connection.authenticated(principal, () => connection.close(CloseCodes.unauthorized, 'Token expired'));
    // A socket that closed while its token was being verified is not tracked any more.
    if (this.connections.has(connection)) this.watchRevocation(connection, principal);
    this.options.hooks?.connected?.(connection).catch((error: Error) => this.logger.warn(`Realtime connect hook: ${error.message}`));
    return true;
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { config } = this.options;
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path !== REALTIME_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (this.draining) return refuseUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '1' });
    const ip = proxyAddr(request as Parameters<typeof proxyAddr>[0], this.trust);
    if (this.connections.size >= config.REALTIME_MAX_CONNECTIONS) {
      this.logger.warn(`Refused a WebSocket from ${ip}: ${this.connections.size} connections open`);
      return refuseUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '5' });
    }
    if ((this.perIp.get(ip) ?? 0) >= config.REALTIME_MAX_CONNECTIONS_PER_IP) {
      this.logger.warn(`Refused a WebSocket from ${ip}: per-IP limit reached`);
      return refuseUpgrade(socket, 429, 'Too Many Requests', { 'Retry-After': '5' });
    }
    const refusal = await this.options.admit?.(request, ip);
    if (refusal) return refuseUpgrade(socket, refusal.status, refusal.reason, refusal.headers);
    const traceparent = request.headers.traceparent;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new RealtimeConnection(ws, ip, request.headers['user-agent'], typeof traceparent === 'string' ? traceparent : undefined);
      this.track(connection);
      ws.on('pong', () => (connection.alive = true));
      ws.on('error', (error) => this.logger.debug(`Socket ${connection.id}: ${error.message}`));
      ws.once('close', () => this.untrack(connection));
      this.options.accept(connection, request, (handle) =>
        ws.on('message', async (data) => {
          if (!connection.allowMessage(config.REALTIME_MAX_MESSAGES_PER_SECOND)) {
            connection.close(CloseCodes.policyViolation, 'Too many messages');
            return;
          }
          try {
            await handle(String(data));
          } catch (error) {
            this.logger.warn(`Message on ${connection.id} failed: ${(error as Error).message}`);
            connection.close(CloseCodes.internalError, 'Internal server error');
          }
        }),
      );
    });
  }

  private track(connection: RealtimeConnection): void {
    this.connections.add(connection);
    this.perIp.set(connection.ip, (this.perIp.get(connection.ip) ?? 0) + 1);
  }

  private untrack(connection: RealtimeConnection): void {
    connection.disposed();
    if (!this.connections.delete(connection)) return;
    this.unwatchRevocation(connection);
    if (connection.principal) {
      this.options.hooks?.disconnected?.(connection).catch((error: Error) => this.logger.warn(`Realtime disconnect hook: ${error.message}`));
    }
    const left = (this.perIp.get(connection.ip) ?? 1) - 1;
    if (left > 0) this.perIp.set(connection.ip, left);
    else this.perIp.delete(connection.ip);
  }

  private authenticatedConnections(): RealtimeConnection[] {
    return [...this.connections].filter((connection) => connection.principal);
  }

  /**
   * A socket that did not answer the previous ping is gone (a dead peer never sends a close frame).
   * Each socket is visited once per interval, in slices spread over a third of it.
   */
  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const connections = [...this.connections];
      const slices = Math.ceil(connections.length / HEARTBEAT_SLICE);
      const pauseMs = slices > 1 ? this.options.config.REALTIME_HEARTBEAT_MS / 3 / slices : 0;
      for (let start = 0; start < connections.length && !this.draining; start += HEARTBEAT_SLICE) {
        if (start) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        for (const connection of connections.slice(start, start + HEARTBEAT_SLICE)) {
          if (!this.connections.has(connection)) continue;
          if (!connection.alive) {
            connection.socket.terminate();
            continue;
          }
          connection.alive = false;
          if (connection.socket.readyState === WebSocket.OPEN) connection.socket.ping();
        }
      }
    } finally {
      this.beating = false;
    }
  }

  private watchRevocation(connection: RealtimeConnection, principal: AuthPrincipal): void {
    const check = revocationCheckOf(principal);
    this.revocationChecks.set(connection, check);
    for (const [marks, key] of [[this.bySessionMark, check.sessionKey], [this.byUserMark, check.userKey]] as const) {
      const sockets = marks.get(key) ?? new Set<RealtimeConnection>();
      marks.set(key, sockets.add(connection));
    }
  }

  private unwatchRevocation(connection: RealtimeConnection): void {
    const check = this.revocationChecks.get(connection);
    if (!check) return;
    this.revocationChecks.delete(connection);
    for (const [marks, key] of [[this.bySessionMark, check.sessionKey], [this.byUserMark, check.userKey]] as const) {
      const sockets = marks.get(key);
      sockets?.delete(connection);
      if (!sockets?.size) marks.delete(key);
    }
  }

  /**
   * Reads the revocation marks auth sets in Redis for every session and user with an open socket,
   * as token verification would, and closes the sockets a set mark revokes: a revoked session's
   * sockets close within one interval. Each mark is read once however many sockets share it.
   */
  private async closeRevoked(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    const keys = [...this.bySessionMark.keys(), ...this.byUserMark.keys()];
    try {
      for (let start = 0; start < keys.length; start += REVOCATION_KEYS_PER_READ) {
        const batch = keys.slice(start, start + REVOCATION_KEYS_PER_READ);
        const marks = await this.options.store.getMany(batch);
        marks.forEach((mark, index) => {
          if (mark !== null) this.closeMarked(batch[index], mark);
        });
      }
    } catch (error) {
      this.logger.warn(`Revocation check failed: ${(error as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }

  private closeMarked(key: string, mark: string): void {
    const sessionSockets = this.bySessionMark.get(key);
    if (sessionSockets) {
      for (const connection of sessionSockets) connection.close(CloseCodes.forbidden, 'Session revoked');
      return;
    }
    for (const connection of this.byUserMark.get(key) ?? []) {
      const issuedAtMs = this.revocationChecks.get(connection)?.issuedAtMs;
      if (issuedAtMs !== undefined && revokedByUserMark(issuedAtMs, mark)) connection.close(CloseCodes.forbidden, 'Session revoked');
    }
  }
}
