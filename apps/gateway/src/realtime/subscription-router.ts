import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { counter } from '@multipult/observability';
import { RealtimeSockets, UpgradeRefusal, registerRealtimeMessages } from '@multipult/realtime';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { GatewayConfig } from '../config';
import { RoutedClient } from './routed-client';
import { SupergraphRoutes } from './supergraph-routes';

const upgradeOutcomes = () =>
  counter({ name: 'gateway_ws_upgrades_total', help: 'WebSocket upgrades on /graphql/ws by outcome', labelNames: ['outcome'] as const });

/**
 * @apollo/gateway does not execute subscriptions, so the gateway serves /graphql/ws itself:
 * graphql-ws with authentication, limits, heartbeat and drain as every realtime endpoint
 * (@multipult/realtime), upgrades rate limited per client IP like HTTP requests, and each
 * operation routed by its root fields to the subgraph that owns them (RoutedClient).
 */
@Injectable()
export class SubscriptionRouter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SubscriptionRouter.name);
  private readonly sockets: RealtimeSockets;
  private readonly outcomes = upgradeOutcomes();

  constructor(
    @InjectConfig() private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ACCESS_TOKEN_VERIFIER) verifier: AccessTokenVerifier,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly routes: SupergraphRoutes,
  ) {
    registerRealtimeMessages();
    this.sockets = new RealtimeSockets({
      config,
      verifier,
      store,
      trustProxy: config.TRUST_PROXY.split(',').map((value) => value.trim()).filter(Boolean),
      admit: (request, ip) => this.admit(request, ip),
      accept: (connection, request, receive) => {
        const client = new RoutedClient(connection, request, this.sockets, this.routes, config.REALTIME_INIT_TIMEOUT_MS);
        receive((message) => client.receive(message));
      },
    });
  }

  onApplicationBootstrap(): void {
    this.sockets.attach(this.adapterHost.httpAdapter.getHttpServer() as Server);
  }

  /** Closes client sockets with 1001 (before Apollo's HTTP drain cuts them) so clients reconnect through another replica. */
  async onModuleDestroy(): Promise<void> {
    await this.sockets.drain();
  }

  private async admit(_request: IncomingMessage, ip: string): Promise<UpgradeRefusal | undefined> {
    if (!this.routes.loaded) {
      this.outcomes.inc({ outcome: 'not_ready' });
      return { status: 503, reason: 'Service Unavailable', headers: { 'Retry-After': '1' } };
    }
    if (!this.config.RATE_LIMIT_ALLOWLIST.includes(ip)) {
      const decision = await this.store
        .hitSlidingWindow(`rl:ip:${ip}`, this.config.RATE_LIMIT_PER_IP, this.config.RATE_LIMIT_WINDOW_SECONDS * 1000)
        .catch((error: Error) => {
          this.logger.warn(`Rate limit check failed: ${error.message}`);
          return { allowed: true, retryAfterMs: 0 };
        });
      if (!decision.allowed) {
        this.outcomes.inc({ outcome: 'rate_limited' });
        return { status: 429, reason: 'Too Many Requests', headers: { 'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) } };
      }
    }
    this.outcomes.inc({ outcome: 'accepted' });
    return undefined;
  }
}
