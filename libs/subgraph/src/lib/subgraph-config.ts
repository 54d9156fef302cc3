import { z } from 'zod';
import {
  SUBGRAPH_BODY_LIMIT_DEFAULT,
  baseEnv,
  databaseEnv,
  envHelpers,
  kafkaEnv,
  redisEnv,
  requireSharedInfrastructureInProduction,
  requireSocketTimeoutAboveStatementTimeout,
  tokenVerificationEnv,
} from '@multipult/config';
import { jobsEnv } from '@multipult/jobs';
import { graphqlUrlVariable, serviceEntry } from '@multipult/registry';
import { eventRetentionEnv } from './event-retention';

const portWithDefault = (port: number) => z.coerce.number().int().min(1).max(65535).default(port);

const commonShape = {
  ...baseEnv,
  ...databaseEnv,
  ...redisEnv,
  ...kafkaEnv,
  ...tokenVerificationEnv,
  ...jobsEnv,
  ...eventRetentionEnv,
  // Not needed by the token issuer, which verifies with its own keys; required of the others below.
  AUTH_JWKS_URL: tokenVerificationEnv.AUTH_JWKS_URL.optional(),
  /** Largest accepted JSON body (body-parser syntax): room for what the gateway accepts, re-serialised. */
  BODY_LIMIT: z.string().default(SUBGRAPH_BODY_LIMIT_DEFAULT),
  /** GraphQL POSTs answered by Apollo Server without Express and Nest middleware (graphql-fast-path.ts); false: all through Express. */
  GRAPHQL_FAST_PATH: envHelpers.booleanFlag.default(true),
};

type CommonShape = typeof commonShape & { PORT: ReturnType<typeof portWithDefault> };

type SharedInfrastructureConfig = z.output<
  z.ZodObject<Pick<CommonShape, 'NODE_ENV' | 'REDIS_URL' | 'KAFKA_BROKERS' | 'DATABASE_STATEMENT_TIMEOUT_MS' | 'DATABASE_SOCKET_TIMEOUT_MS'>>
>;

/** A subgraph's config schema: the shared variables, overridden and extended by the service's own. */
export type SubgraphConfigSchema<Shape extends z.ZodRawShape> = z.ZodObject<Omit<CommonShape, keyof Shape> & Shape>;

export type SubgraphConfigOf<Shape extends z.ZodRawShape> = z.output<SubgraphConfigSchema<Shape>>;

/**
 * The config schema of a subgraph: base, database, Redis and Kafka variables, durable jobs and event
 * retention (jobsEnv, eventRetentionEnv), token verification
 * (AUTH_JWKS_URL, required unless the registry says the service issues tokens), PORT (default from
 * the registry), BODY_LIMIT, GRAPHQL_FAST_PATH, then the service's own `shape` (which may override a default, e.g.
 * BODY_LIMIT). Production requires real Redis and Kafka; `refine` adds the service's own checks.
 */
export function defineSubgraphConfig<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  refine?: (config: SubgraphConfigOf<Shape>, ctx: z.RefinementCtx) => void,
): SubgraphConfigSchema<Shape> {
  const entry = serviceEntry(service);
  const schema = z
    .object({
      ...commonShape,
      ...(entry.issuesTokens ? {} : tokenVerificationEnv),
      PORT: portWithDefault(entry.port),
      ...Object.fromEntries(
        entry.calls.map((called) => [graphqlUrlVariable(called), z.url().default(`http://127.0.0.1:${serviceEntry(called).port}/graphql`)]),
      ),
      ...shape,
    })
    .superRefine((config, ctx) => {
      // The common variables are there (a service's shape may override their defaults, not their types).
      requireSharedInfrastructureInProduction(config as SharedInfrastructureConfig, ctx);
      requireSocketTimeoutAboveStatementTimeout(config as SharedInfrastructureConfig, ctx);
      refine?.(config as unknown as SubgraphConfigOf<Shape>, ctx);
    });
  return schema as unknown as SubgraphConfigSchema<Shape>;
}

/** Where a subgraph this service `calls` (registry) listens: its `<NAME>_GRAPHQL_URL`, validated at start-up. */
export function calledSubgraphUrl(config: object, service: string): string {
  const url = (config as Record<string, unknown>)[graphqlUrlVariable(service)];
  if (typeof url !== 'string') throw new Error(`${graphqlUrlVariable(service)} is not configured: add ${service} to this service's calls in the registry`);
  return url;
}
