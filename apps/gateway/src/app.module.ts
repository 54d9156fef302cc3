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
import { EdgeAdmission } from './edge/edge-admission';
import { FilesProxyController } from './edge/files-proxy.controller';
import { JiraWebhooksProxyController } from './edge/jira-webhooks-proxy.controller';
import { FederatedOperations } from './federation/federated-operations';
import { gatewayOptions } from './federation/gateway-options';
import { queryLimitsOf } from './federation/query-limits.plugin';
import { SubgraphClient } from './federation/subgraph-client';
import { SubscriptionRouter } from './realtime/subscription-router';
import { SupergraphRoutes } from './realtime/supergraph-routes';

export const GATEWAY_SERVICE = 'gateway';

@Module({})
export class AppModule implements NestModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const subgraphUrls = new Map((config.SUBGRAPHS ?? []).map(({ name, url }) => [name, url]));
    const limits = queryLimitsOf(config);
    const routes = new SupergraphRoutes(subgraphUrls, limits);
    const operations = new FederatedOperations(subgraphUrls, new SubgraphClient(config.SUBGRAPH_TIMEOUT_MS), limits);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: GATEWAY_SERVICE, logLevel: config.LOG_LEVEL }),
        RedisModule.forRoot(),
        AuthModule.forRoot(),
        GraphQLModule.forRoot<ApolloGatewayDriverConfig>({ driver: ApolloGatewayDriver, ...gatewayOptions(config, routes, operations) }),
        HealthModule.forRoot({
          probes: [FastStoreProbe],
          gracefulShutdownTimeoutMs: config.NODE_ENV === 'production' ? config.SHUTDOWN_GRACE_SECONDS * 1000 : 0,
        }),
      ],
      controllers: [FilesProxyController, JiraWebhooksProxyController, AgentStreamsProxyController],
      providers: [EdgeAdmission, { provide: SupergraphRoutes, useValue: routes },
        { provide: FederatedOperations, useValue: operations }, SubscriptionRouter],
    };
  }

  constructor(private readonly admission: EdgeAdmission) {}

  configure(consumer: MiddlewareConsumer): void {
    // GraphQL requests the fast path hands over (GET, batches, uploads, malformed ones) get the same checks.
    consumer.apply(this.admission.middleware({ refuseInvalidToken: true, countTenantUsage: true })).forRoutes('graphql');
    // Downloads and JIRA webhooks: the signed link or the body's signature is the credential, so only the limits apply.
    consumer
      .apply(this.admission.middleware({ refuseInvalidToken: false, countTenantUsage: false }))
      .forRoutes(FilesProxyController, JiraWebhooksProxyController);
    // Run event streams: the caller's token, checked at the edge as on /graphql (and again by the agents service).
    consumer.apply(this.admission.middleware({ refuseInvalidToken: true, countTenantUsage: false })).forRoutes(AgentStreamsProxyController);
  }
}
