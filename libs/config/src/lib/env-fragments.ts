import { z } from 'zod';

const urlWithProtocols = (protocols: string[]) =>
  z
    .string()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(':', ''));
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`);

/** true/false or 1/0, as a boolean (for every service's on/off variables). */
export const booleanFlag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/**
 * A comma-separated list. An empty variable counts as unset (the default applies), so an empty list
 * is written `none`; `none` among other items is refused, since it would be taken for an item.
 */
const commaList = z.string().transform((value, context) => {
  if (value.trim() === 'none') return [];
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (!items.includes('none')) return items;
  context.addIssue({ code: 'custom', message: '`none` is the whole value (an empty list), not an item of a list' });
  return z.NEVER;
});

/** Variables every service reads. */
export const baseEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('0.0.0.0'),
  /** Seconds to finish in-flight work after SIGTERM before the process exits. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  /** Names the service in traces (the OpenTelemetry standard variable); default: the service's own name. */
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlWithProtocols(['http', 'https']).optional(),
  OTEL_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  /**
   * GraphQL operation names that get their own label in the operation metrics; any other name
   * counts as `other`, so clients cannot grow the metrics without limit.
   */
  METRICS_OPERATION_NAMES: commaList
    .pipe(z.array(z.string().regex(/^[_A-Za-z][_0-9A-Za-z]*$/, 'must be GraphQL operation names')))
    .default([]),
  /**
   * Port of the Prometheus `/metrics` listener, apart from the public port so that no ingress
   * exposes it (9464 is the conventional Prometheus exporter port); 0 picks a free one.
   */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
};

export const databaseEnv = {
  DATABASE_URL: urlWithProtocols(['postgres', 'postgresql']),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /**
   * A connection that has sent nothing for this long while a statement is outstanding is closed and
   * the statement fails (PgJDBC's socketTimeout): PostgreSQL's own bounds need an answer to arrive,
   * which a silent network never delivers. Above every wait a statement may have on the server: the
   * event handlers' deadline (at most 25 s), pg-boss's 30 s lock_timeout, and
   * DATABASE_STATEMENT_TIMEOUT_MS (see requireSocketTimeoutAboveStatementTimeout).
   */
  DATABASE_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(35_000).default(45_000),
  /**
   * Statements each connection keeps prepared (parsed once, and planned once unless PostgreSQL's
   * plan_cache_mode finds a plan for the values worth it): those it has run twice, up to this many.
   * 0 turns it off, e.g. behind PgBouncer in transaction mode before 1.21, where a named statement
   * does not follow the session.
   */
  DATABASE_STATEMENT_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000).default(100),
  /** Run pending migrations at start-up (off when a release job runs them instead). */
  DATABASE_MIGRATIONS_RUN: booleanFlag.default(true),
};

/** How much longer than statement_timeout the socket timeout must be: the server's cancel, then its answer. */
const SOCKET_TIMEOUT_SLACK_MS = 5_000;

/** The socket timeout must leave a statement the server cuts off room to answer, or it would close healthy connections. */
export function requireSocketTimeoutAboveStatementTimeout(
  config: { DATABASE_STATEMENT_TIMEOUT_MS: number; DATABASE_SOCKET_TIMEOUT_MS: number },
  ctx: z.RefinementCtx,
): void {
  const least = config.DATABASE_STATEMENT_TIMEOUT_MS + SOCKET_TIMEOUT_SLACK_MS;
  if (config.DATABASE_SOCKET_TIMEOUT_MS < least) {
    ctx.addIssue({
      code: 'custom',
      path: ['DATABASE_SOCKET_TIMEOUT_MS'],
      message: `must be at least DATABASE_STATEMENT_TIMEOUT_MS + ${SOCKET_TIMEOUT_SLACK_MS} (${least}), or healthy connections running a long statement are closed`,
    });
  }
}

/** Redis and Kafka are optional outside production: without them a single instance uses in-process stand-ins. */
export const redisEnv = {
  REDIS_URL: urlWithProtocols(['redis', 'rediss']).optional(),
  REDIS_KEY_PREFIX: z.string().default('mp:'),
};

export const kafkaEnv = {
  KAFKA_BROKERS: commaList.optional(),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** Namespace for topics, dead-letter topics and consumer groups (e.g. `staging.`), so deployments can share a cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, underscores and dashes (what Kafka allows in a topic name)')
    .default(''),
  KAFKA_SSL: booleanFlag.default(false),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** Consumer retries before a message goes to `<topic>.dlq`. */
  KAFKA_CONSUMER_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(5),
  /**
   * false: this instance joins no consumer group, so its event handling never shares an event loop
   * (and a heap) with what it serves; instances with true do the handling. Its outbox relay still runs.
   */
  EVENT_CONSUMERS_ENABLED: booleanFlag.default(true),
  /** Partitions each consumer group member handles at once (order holds within a partition). */
  KAFKA_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * How long one event's handler may take before it is rolled back and parked on `<topic>.retry`
   * (0: no deadline); under Kafka's 30 s session timeout, past which the member leaves its group anyway.
   */
  KAFKA_CONSUMER_HANDLING_DEADLINE_MS: z.coerce.number().int().min(0).max(25_000).default(20_000),
  OUTBOX_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * false: this instance relays no outbox rows; its writers wake the relays of other instances
   * (NOTIFY on commit), so relaying never waits behind the requests this one serves.
   */
  OUTBOX_RELAY_ENABLED: booleanFlag.default(true),
  OUTBOX_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(200),
};

/** How a service verifies access tokens issued by the auth service. */
export const tokenVerificationEnv = {
  AUTH_JWKS_URL: urlWithProtocols(['http', 'https']),
  JWT_ISSUER: z.string().default('multipult-auth'),
  JWT_AUDIENCE: z.string().default('multipult'),
};

const DEVELOPMENT_EMAIL_TOKEN_SEAL_KEY = 'development-only-email-token-seal-key-change-me';

/**
 * The key, shared by the auth and notifications services only, that seals the one-time tokens of
 * emailed links (verification, password reset, invitations) inside their events, so Kafka, the
 * outbox and logs never hold a usable token.
 */
export const emailTokenSealEnv = {
  EMAIL_TOKEN_SEAL_KEY: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_EMAIL_TOKEN_SEAL_KEY),
};

/** Refuses to start production with the development seal key, which anyone can read in this repository. */
export function requireEmailTokenSealKeyInProduction<T extends { NODE_ENV: string; EMAIL_TOKEN_SEAL_KEY: string }>(
  config: T,
  ctx: z.RefinementCtx,
): void {
  if (config.NODE_ENV === 'production' && config.EMAIL_TOKEN_SEAL_KEY === DEVELOPMENT_EMAIL_TOKEN_SEAL_KEY) {
    ctx.addIssue({ code: 'custom', path: ['EMAIL_TOKEN_SEAL_KEY'], message: 'must be set to a secret of your own in production' });
  }
}

/**
 * Default body limits (body-parser syntax). The gateway re-serialises what it accepts for the
 * subgraphs (fragments expanded, the plan's own selections added, variables written again), so a
 * subgraph accepts twice the gateway's limit: what the gateway lets through is not refused for its
 * size further in (should it be, the client gets PAYLOAD_TOO_LARGE). Raise both together.
 */
export const GATEWAY_BODY_LIMIT_DEFAULT = '1mb';
export const SUBGRAPH_BODY_LIMIT_DEFAULT = '2mb';

/**
 * Limits on a GraphQL document itself, checked before it is planned or executed: aliases (one
 * cheap field asked a thousand times), directives, and lexical tokens (parsing stops at the limit).
 */
export const graphqlDocumentLimitsEnv = {
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).max(10_000).default(30),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(1).max(10_000).default(50),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
};

export const corsEnv = {
  CORS_ORIGINS: commaList.default([]),
};

export const envHelpers = { urlWithProtocols, booleanFlag, commaList };

/**
 * Variables a service no longer reads, each with what replaced it: set, they stop the start-up with
 * one line naming the replacement instead of being silently ignored.
 */
export function retiredEnv<K extends string>(replacements: Record<K, string>): Record<K, z.ZodOptional<z.ZodUndefined>> {
  return Object.fromEntries(
    Object.entries<string>(replacements).map(([name, replacement]) => [
      name,
      z.undefined({ error: `is no longer read: set ${replacement} instead` }).optional(),
    ]),
  ) as Record<K, z.ZodOptional<z.ZodUndefined>>;
}

/** Refuses to start production without real Redis and Kafka: the stand-ins are single-instance only. */
export function requireSharedInfrastructureInProduction<
  T extends { NODE_ENV: string; REDIS_URL?: string; KAFKA_BROKERS?: string[] },
>(config: T, ctx: z.RefinementCtx): void {
  if (config.NODE_ENV !== 'production') return;
  if (!config.REDIS_URL) ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required in production' });
  if (!config.KAFKA_BROKERS?.length)
    ctx.addIssue({ code: 'custom', path: ['KAFKA_BROKERS'], message: 'is required in production' });
}
