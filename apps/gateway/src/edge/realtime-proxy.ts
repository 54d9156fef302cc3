import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import http, { IncomingMessage, Server } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import proxyAddr from 'proxy-addr';
import { InjectConfig } from '@multipult/config';
import { REALTIME_PATH, refuseUpgrade } from '@multipult/graphql';
import { acceptRequestId, counter } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { GatewayConfig, realtimeUpstream } from '../config';

/** Request headers that belong to this hop (RFC 9110 §7.6.1) or that the proxy sets itself. */
const HOP_HEADERS = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'proxy-authorization']);

const proxiedUpgrades = () =>
  counter({ name: 'gateway_ws_upgrades_total', help: 'WebSocket upgrades on /graphql/ws by outcome', labelNames: ['outcome'] as const });

/** `name: value` lines of a response, in the order and spelling the upstream sent. */
function headerLines(rawHeaders: string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return lines;
}

/**
 * @apollo/gateway does not execute subscriptions, so the gateway passes the WebSocket upgrade on
 * /graphql/ws through to the notifications service (which authenticates in connection_init) and
 * then relays bytes both ways. Upgrades are rate limited per client IP like HTTP requests, and the
 * client's address travels in X-Forwarded-For for the service's per-IP connection limit.
 */
@Injectable()
export class RealtimeProxy implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RealtimeProxy.name);
  private readonly open = new Set<Duplex>();
  private readonly trust: ReturnType<typeof proxyAddr.compile>;
  private readonly outcomes = proxiedUpgrades();
  private readonly target: string | undefined;
  private draining = false;

  constructor(
    @InjectConfig() private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(FAST_STORE) private readonly store: FastStore,
  ) {
    this.target = realtimeUpstream(config);
    this.trust = proxyAddr.compile(config.TRUST_PROXY.split(',').map((value) => value.trim()).filter(Boolean));
  }

  onApplicationBootstrap(): void {
    if (!this.target) this.logger.warn(`No realtime upstream (REALTIME_URL or a notifications subgraph): ${REALTIME_PATH} answers 404`);
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(request, socket, head).catch((error: Error) => {
        this.logger.warn(`WebSocket upgrade failed: ${error.message}`);
        this.refuse(socket, 502, 'Bad Gateway', 'error');
      });
    });
  }

  /** Closes relayed sockets (before Apollo's HTTP drain cuts them) so clients reconnect through another replica. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    for (const socket of this.open) socket.end();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://gateway').pathname;
    const target = this.target;
    if (path !== REALTIME_PATH || !target) return this.refuse(socket, 404, 'Not Found', 'not_found');
    if (this.draining) return this.refuse(socket, 503, 'Service Unavailable', 'draining', { 'Retry-After': '1' });
    const ip = proxyAddr(request as Parameters<typeof proxyAddr>[0], this.trust);
    if (!this.config.RATE_LIMIT_ALLOWLIST.includes(ip)) {
      const decision = await this.store
        .hitSlidingWindow(`rl:ip:${ip}`, this.config.RATE_LIMIT_PER_IP, this.config.RATE_LIMIT_WINDOW_SECONDS * 1000)
        .catch(() => ({ allowed: true, retryAfterMs: 0 }));
      if (!decision.allowed) {
        return this.refuse(socket, 429, 'Too Many Requests', 'rate_limited', {
          'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
        });
      }
    }
    this.relay(request, socket, head, new URL(target));
  }

  private relay(request: IncomingMessage, client: Duplex, head: Buffer, target: URL): void {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
    }
    const forwardedFor = request.headers['x-forwarded-for'];
    const peer = request.socket.remoteAddress ?? 'unknown';
    Object.assign(headers, {
      host: target.host,
      // The chain so far plus this hop's peer; the service resolves the client with its own trust list.
      'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${peer}` : peer,
      'x-forwarded-proto': (request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
      'x-request-id': acceptRequestId(request.headers['x-request-id']),
    });
    const upstream = (target.protocol === 'https:' ? https : http).request(target, { method: 'GET', headers });
    upstream.setTimeout(10_000, () => upstream.destroy(new Error('upstream did not answer the upgrade within 10 s')));
    upstream.on('upgrade', (response: IncomingMessage, service: Duplex, serviceHead: Buffer) => {
      upstream.setTimeout(0);
      client.write(['HTTP/1.1 101 Switching Protocols', ...headerLines(response.rawHeaders)].join('\r\n') + '\r\n\r\n');
      if (serviceHead.length) client.write(serviceHead);
      if (head.length) service.write(head);
      this.outcomes.inc({ outcome: 'relayed' });
      this.track(client, service);
      service.pipe(client);
      client.pipe(service);
    });
    upstream.on('response', (response: IncomingMessage) => {
      // The service refused the upgrade (limits, draining): pass its answer on.
      this.outcomes.inc({ outcome: `upstream_${response.statusCode}` });
      client.write([`HTTP/1.1 ${response.statusCode} ${response.statusMessage}`, ...headerLines(response.rawHeaders)].join('\r\n') + '\r\n\r\n');
      response.pipe(client);
    });
    upstream.on('error', (error: Error) => {
      this.logger.warn(`Realtime upstream ${target.host}: ${error.message}`);
      this.refuse(client, 502, 'Bad Gateway', 'upstream_error');
    });
    client.on('error', () => upstream.destroy());
    upstream.end();
  }

  private track(client: Duplex, service: Duplex): void {
    this.open.add(client);
    const teardown = () => {
      this.open.delete(client);
      client.destroy();
      service.destroy();
    };
    for (const side of [client, service]) {
      side.once('close', teardown);
      side.once('error', teardown);
    }
  }

  private refuse(socket: Duplex, status: number, reason: string, outcome: string, headers?: Record<string, string>): void {
    this.outcomes.inc({ outcome });
    if (socket.writable) refuseUpgrade(socket, status, reason, headers);
    else socket.destroy();
  }
}
