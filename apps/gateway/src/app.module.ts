import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloGatewayDriver, ApolloGatewayDriverConfig } from '@nestjs/apollo';
import { AuthModule } from '@multipult/auth';
import { ConfigModule } from '@multipult/config';
import { FastStoreProbe, HealthModule } from '@multipult/health';
import { ObservabilityModule } from '@multipult/observability';
import { RedisModule } from '@multipult/redis';
import type { GatewayConfig } from './config';
import { AgentStreamsProxyController } from './edge/agent-streams-proxy.controller';
import { EdgeAuthMiddleware } from './edge/edge-auth.middleware';
import { FilesProxyController } from './edge/files-proxy.controller';
import { JiraWebhooksProxyController } from './edge/jira-webhooks-proxy.controller';
import { RateLimitMiddleware } from './edge/rate-limit.middleware';
import { TenantUsageMiddleware } from './edge/tenant-usage.middleware';
import { gatewayOptions } from './federation/gateway-options';
import { SubscriptionRouter } from './realtime/subscription-router';
import { SupergraphRoutes } from './realtime/supergraph-routes';

export const GATEWAY_SERVICE = 'gateway';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const routes = new SupergraphRoutes(new Map((config.SUBGRAPHS ?? []).map(({ name, url }) => [name, url])));
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: GATEWAY_SERVICE, logLevel: config.LOG_LEVEL }),
        RedisModule.forRoot(),
        AuthModule.forRoot(),
        GraphQLModule.forRoot<ApolloGatewayDriverConfig>({ driver: ApolloGatewayDriver, ...gatewayOptions(config, routes) }),
        HealthModule.forRoot({
          probes: [FastStoreProbe],
          gracefulShutdownTimeoutMs: config.NODE_ENV === 'production' ? config.SHUTDOWN_GRACE_SECONDS * 1000 : 0,
        }),
      ],
      controllers: [FilesProxyController, JiraWebhooksProxyController, AgentStreamsProxyController],
      providers: [RateLimitMiddleware, EdgeAuthMiddleware, TenantUsageMiddleware, { provide: SupergraphRoutes, useValue: routes }, SubscriptionRouter],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Limits first, so invalid tokens are rate limited by IP too.
    consumer.apply(RateLimitMiddleware, EdgeAuthMiddleware, TenantUsageMiddleware).forRoutes('graphql');
    // Downloads: the signed link is the credential, so only the limits apply (no token is asked for).
    consumer.apply(RateLimitMiddleware).forRoutes(FilesProxyController);
    // JIRA webhooks: the signature is the credential (checked by the export service); only the limits apply.
    consumer.apply(RateLimitMiddleware).forRoutes(JiraWebhooksProxyController);
    // Run event streams: the caller's token, checked at the edge as on /graphql (and again by the agents service).
    consumer.apply(RateLimitMiddleware, EdgeAuthMiddleware).forRoutes(AgentStreamsProxyController);
  }
}
