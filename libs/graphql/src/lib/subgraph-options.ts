import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloFederationDriver, ApolloFederationDriverConfig } from '@nestjs/apollo';
import type { Request, Response } from 'express';
import { formatError } from './format-error';
import { graphqlMetricsPlugin } from './metrics.plugin';
import { noStorePlugin } from './no-store.plugin';
import { wellFormedTextPlugin } from './text-input';

/** Where every service answers GraphQL over HTTP. */
export const GRAPHQL_PATH = '/graphql';

export interface GraphQLContext {
  req: Request;
  res: Response;
}

/**
 * The GraphQL setup every subgraph shares: federation 2 code-first schema, one error format,
 * metrics, no stack traces, no landing page, introspection only outside production, and text no
 * service can store (NUL, unpaired surrogates) refused before any resolver runs.
 */
export function subgraphGraphQLOptions(options: {
  production: boolean;
  /** METRICS_OPERATION_NAMES: the operation names that get their own metrics label (others count as `other`). */
  metricsOperationNames?: readonly string[];
  /**
   * Work every GraphQL request starts as its context is made, before any resolver runs, on the
   * Express path and the fast path alike (the kit starts token verification here).
   */
  startRequest?: (req: Request) => void;
}): ApolloFederationDriverConfig {
  const { startRequest } = options;
  return {
    driver: ApolloFederationDriver,
    path: GRAPHQL_PATH,
    autoSchemaFile: { federation: 2 },
    sortSchema: true,
    playground: false,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    formatError,
    context: ({ req, res }: GraphQLContext): GraphQLContext => {
      startRequest?.(req);
      return { req, res };
    },
    // Inline tracing (ftv1) costs every request; metrics and OpenTelemetry cover it. No field sets
    // a cache hint, so every answer is no-store without Apollo's per-field cache-control hook.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      noStorePlugin(),
      graphqlMetricsPlugin({ operationNames: options.metricsOperationNames }),
      wellFormedTextPlugin(),
    ],
  };
}
