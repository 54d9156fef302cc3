import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { formatError } from '@multipult/graphql';
import { RequestContext, acceptRequestId, childTraceparent } from '@multipult/observability';
import { CloseCodes, ConnectionParams, REALTIME_PATH, RealtimeConnection, RealtimeSockets } from '@multipult/realtime';
import { SubgraphLink } from './subgraph-link';
import type { SupergraphRoutes } from './supergraph-routes';

/** The connection_init keys a subgraph reads; nothing else of the client's payload travels on. */
const FORWARDED_PARAMS = ['authorization', 'accessToken', 'tenantId', 'clientId', 'locale'] as const;

/** Close codes that cannot be sent in a close frame (RFC 6455 §7.4.1): the upstream is gone, the client should retry. */
const UNSENDABLE_CLOSE_CODES = new Set([1005, 1006, 1015]);

interface ClientMessage {
  type?: unknown;
  id?: unknown;
  payload?: unknown;
}

/**
 * One client socket on the gateway's /graphql/ws, speaking graphql-ws: the gateway answers
 * connection_init itself (authenticated like the subgraphs do) and sends each operation, by its
 * root fields, over this client's own connection to the owning subgraph (opened on first use),
 * relaying results back. A subgraph closing its connection closes the client's with the same code,
 * so revocations (4403), expiry (4401), drains (1001) and limits reach the client as they would directly.
 */
export class RoutedClient {
  private initialised = false;
  private acknowledged = false;
  private readonly links = new Map<string, SubgraphLink>();
  private readonly operations = new Map<string, SubgraphLink>();
  private readonly initTimer: NodeJS.Timeout;
  private readonly requestId: string;

  constructor(
    private readonly connection: RealtimeConnection,
    private readonly request: IncomingMessage,
    private readonly sockets: RealtimeSockets,
    private readonly routes: SupergraphRoutes,
    initTimeoutMs: number,
  ) {
    this.requestId = acceptRequestId(request.headers['x-request-id']);
    this.initTimer = setTimeout(() => connection.close(CloseCodes.initTimeout, 'Connection initialisation timeout'), initTimeoutMs);
    connection.socket.once('close', () => {
      clearTimeout(this.initTimer);
      for (const link of this.links.values()) link.close();
      this.links.clear();
      this.operations.clear();
    });
  }

  async receive(raw: string): Promise<void> {
    let message: ClientMessage;
    try {
      message = JSON.parse(raw) as ClientMessage;
    } catch {
      return this.connection.close(CloseCodes.badRequest, 'Invalid message received');
    }
    switch (message?.type) {
      case 'connection_init':
        return this.initialise(message.payload);
      case 'ping':
        return this.connection.send(JSON.stringify({ type: 'pong' }));
      case 'pong':
        return;
      case 'subscribe':
        return this.subscribe(message, raw);
      case 'complete':
        if (typeof message.id !== 'string') return this.connection.close(CloseCodes.badRequest, 'Invalid message received');
        this.operations.get(message.id)?.send(raw);
        this.operations.delete(message.id);
        return;
      default:
        return this.connection.close(CloseCodes.badRequest, `Unexpected message of type ${String(message?.type)} received`);
    }
  }

  private async initialise(payload: unknown): Promise<void> {
    if (this.initialised) return this.connection.close(CloseCodes.tooManyInits, 'Too many initialisation requests');
    this.initialised = true;
    // The limit is on sending connection_init; verifying it may take longer (a JWKS fetch).
    clearTimeout(this.initTimer);
    const params = payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as ConnectionParams) : {};
    if (!(await this.sockets.authenticate(this.connection, this.request, params))) return;
    this.acknowledged = true;
    await this.connection.send(JSON.stringify({ type: 'connection_ack' }));
  }

  private async subscribe(message: ClientMessage, raw: string): Promise<void> {
    if (!this.acknowledged) return this.connection.close(CloseCodes.unauthorized, 'Unauthorized');
    const payload = message.payload as { query?: unknown; operationName?: unknown } | undefined;
    if (typeof message.id !== 'string' || !message.id || typeof payload?.query !== 'string') {
      return this.connection.close(CloseCodes.badRequest, 'Invalid message received');
    }
    const id = message.id;
    if (this.operations.has(id)) return this.connection.close(CloseCodes.subscriberExists, `Subscriber for ${id} already exists`);
    let subgraph;
    try {
      subgraph = this.routes.route(payload.query, typeof payload.operationName === 'string' ? payload.operationName : null);
      if (!subgraph.url) throw new Error(`subgraph ${subgraph.name} has no routing URL`);
    } catch (error) {
      return this.refuse(id, error);
    }
    const link = this.links.get(subgraph.name) ?? this.link(subgraph.name, subgraph.url);
    this.operations.set(id, link);
    link.send(raw);
  }

  /** An operation that cannot be routed ends with a graphql-ws `error` message; the socket stays open. */
  private async refuse(id: string, error: unknown): Promise<void> {
    const graphqlError = error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error });
    const principal = this.connection.principal;
    const formatted = RequestContext.run(
      {
        requestId: this.requestId,
        traceparent: childTraceparent(this.connection.traceparent),
        userId: principal?.userId,
        tenantId: principal?.tenantId ?? undefined,
        locales: [this.connection.locale],
        clientIp: this.connection.ip,
      },
      () => formatError(graphqlError.toJSON(), graphqlError),
    );
    await this.connection.send(JSON.stringify({ id, type: 'error', payload: [formatted] }));
  }

  private link(subgraph: string, graphqlUrl: string): SubgraphLink {
    const url = new URL(graphqlUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + REALTIME_PATH;
    const params = this.connection.params;
    const initPayload = Object.fromEntries(FORWARDED_PARAMS.filter((key) => params[key] !== undefined).map((key) => [key, params[key]]));
    const link = new SubgraphLink(subgraph, url.toString(), initPayload, this.upstreamHeaders(), {
      message: (message, raw) => {
        if (this.operations.get(message.id) !== link) return;
        if (message.type !== 'next') this.operations.delete(message.id);
        void this.connection.send(raw);
      },
      closed: (code, reason) => {
        this.links.delete(subgraph);
        if (UNSENDABLE_CLOSE_CODES.has(code)) this.connection.close(CloseCodes.tryAgainLater, `Service ${subgraph} unavailable; reconnect`);
        else this.connection.close(code, reason);
      },
    });
    this.links.set(subgraph, link);
    return link;
  }

  private upstreamHeaders(): Record<string, string> {
    const headers = this.request.headers;
    const forwardedFor = headers['x-forwarded-for'];
    const peer = this.request.socket.remoteAddress ?? 'unknown';
    return {
      'x-request-id': this.requestId,
      traceparent: childTraceparent(this.connection.traceparent),
      // The chain so far plus this hop's peer; the subgraph resolves the client with its own trust list.
      'x-forwarded-for': forwardedFor ? `${String(forwardedFor)}, ${peer}` : peer,
      'x-forwarded-proto': (this.request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      ...(headers['user-agent'] ? { 'user-agent': headers['user-agent'] } : {}),
      ...(typeof headers['accept-language'] === 'string' ? { 'accept-language': headers['accept-language'] } : {}),
    };
  }
}
