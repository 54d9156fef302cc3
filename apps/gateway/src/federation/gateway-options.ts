import { IntrospectAndCompose, SupergraphManager } from '@apollo/gateway';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGatewayDriverConfig } from '@nestjs/apollo';
import { formatError, graphqlMetricsPlugin } from '@multipult/graphql';
import type { GatewayConfig } from '../config';
import type { SupergraphRoutes } from '../realtime/supergraph-routes';
import type { Request } from 'express';
import type { FederatedOperations } from './federated-operations';
import { SubgraphDataSource, gatewayContextOf } from './subgraph-client';
import { documentParseOptions, documentValidationRules, queryLimitsOf, queryLimitsPlugin } from './query-limits.plugin';
import { SupergraphFileManager } from './supergraph-file-manager';

/** A supergraph manager that also hands every supergraph it loads to `observe`. */
function observed(manager: SupergraphManager, observe: (supergraphSdl: string) => void): SupergraphManager {
  return {
    initialize: async (hooks) => {
      const loaded = await manager.initialize({
        ...hooks,
        update: (supergraphSdl) => {
          hooks.update(supergraphSdl);
          observe(supergraphSdl);
        },
      });
      observe(loaded.supergraphSdl);
      return loaded;
    },
  };
}

/**
 * @apollo/gateway reads APOLLO_TELEMETRY_DISABLED from process.env when an ApolloGateway is
 * constructed (it may be started with another env, as the embedded launcher does), so the
 * validated setting is written there before the driver builds one.
 */
export function applyApolloTelemetrySetting(config: Pick<GatewayConfig, 'APOLLO_TELEMETRY_DISABLED'>): void {
  process.env.APOLLO_TELEMETRY_DISABLED = String(config.APOLLO_TELEMETRY_DISABLED);
}

/**
 * Production loads the supergraph file composed by tools/schema (composition errors fail CI, never
 * a running gateway) and takes a new one when the file changes (SUPERGRAPH_WATCH_SECONDS);
 * development may compose from the running subgraphs and poll.
 * Every supergraph loaded also becomes the routing table of /graphql/ws (`routes`) and the plans
 * of the GraphQL fast path (`operations`).
 */
export function gatewayOptions(
  config: GatewayConfig,
  routes: SupergraphRoutes,
  operations: FederatedOperations,
): Omit<ApolloGatewayDriverConfig, 'driver'> {
  const loaded = (sdl: string) => {
    routes.update(sdl);
    operations.update(sdl);
  };
  applyApolloTelemetrySetting(config);
  const production = config.NODE_ENV === 'production';
  let supergraphSdl: string | SupergraphManager;
  if (config.SUPERGRAPH_PATH) {
    supergraphSdl = new SupergraphFileManager({
      path: config.SUPERGRAPH_PATH,
      watchIntervalMs: config.SUPERGRAPH_WATCH_SECONDS * 1000,
      onLoaded: loaded,
    });
  } else {
    const composed = new IntrospectAndCompose({
      subgraphs: config.SUBGRAPHS ?? [],
      pollIntervalInMs: config.SUPERGRAPH_POLL_SECONDS ? config.SUPERGRAPH_POLL_SECONDS * 1000 : undefined,
    });
    supergraphSdl = observed(composed, loaded);
  }
  const routingOverrides = new Map((config.SUBGRAPHS ?? []).map(({ name, url }) => [name, url]));
  const limits = queryLimitsOf(config);
  return {
    server: {
      path: '/graphql',
      introspection: !production,
      includeStacktraceInErrorResponses: false,
      formatError,
      parseOptions: documentParseOptions(limits),
      validationRules: documentValidationRules(limits),
      context: ({ req }: { req: Request }) => gatewayContextOf(req.headers, req.ip),
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        graphqlMetricsPlugin({ operationNames: config.METRICS_OPERATION_NAMES }),
        queryLimitsPlugin(limits),
      ],
    },
    gateway: {
      supergraphSdl,
      // With a supergraph file, SUBGRAPHS (when set) overrides the routing URLs recorded in it.
      buildService: ({ name, url }) => {
        const target = routingOverrides.get(name) ?? url;
        if (!target) throw new Error(`subgraph ${name} has no routing URL`);
        return new SubgraphDataSource(name, target, operations.client);
      },
    },
  };
}
