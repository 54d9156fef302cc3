import { z } from 'zod';
import bytes from 'bytes';
import {
  GATEWAY_BODY_LIMIT_DEFAULT,
  baseEnv,
  corsEnv,
  envHelpers,
  graphqlDocumentLimitsEnv,
  redisEnv,
  tokenVerificationEnv,
} from '@multipult/config';
import { realtimeEnv } from '@multipult/realtime';

/** `name=url` pairs, e.g. `auth=http://auth:4001/graphql,content=http://content:4002/graphql`. */
const subgraphList = z.string().transform((value, ctx) => {
  const subgraphs = value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const [name, url] = pair.split('=');
      return { name: name?.trim(), url: url?.trim() };
    });
  for (const { name, url } of subgraphs) {
    if (!name || !url || !/^https?:\/\//.test(url)) {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of name=http(s)://host/graphql' });
      return z.NEVER;
    }
  }
  return subgraphs as { name: string; url: string }[];
});

export const gatewayConfigSchema = z
  .object({
    ...baseEnv,
    ...redisEnv,
    ...tokenVerificationEnv,
    ...corsEnv,
    ...realtimeEnv,
    ...graphqlDocumentLimitsEnv,
    PORT: z.coerce.number().int().min(1).max(65535).default(4000),
    /** A composed supergraph file (tools/compose-supergraph); production loads this. */
    SUPERGRAPH_PATH: z.string().optional(),
    /**
     * How often the supergraph file is checked for a new supergraph (a ConfigMap update swaps it
     * in place, which file events do not reliably report); 0 loads it once.
     */
    SUPERGRAPH_WATCH_SECONDS: z.coerce.number().min(0).max(3600).default(5),
    /**
     * Subgraphs to compose from at start-up and poll (development) when SUPERGRAPH_PATH is unset;
     * with SUPERGRAPH_PATH, their URLs override the routing URLs recorded in the file.
     */
    SUBGRAPHS: subgraphList.optional(),
    SUPERGRAPH_POLL_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
    /**
     * Large enough for a long document (content accepts 500 000 characters of Markdown); at most
     * half the subgraphs' BODY_LIMIT (see GATEWAY_BODY_LIMIT_DEFAULT).
     */
    BODY_LIMIT: z
      .string()
      .refine((value) => (bytes.parse(value) ?? 0) > 0, 'must be a size such as 512kb or 1mb')
      .default(GATEWAY_BODY_LIMIT_DEFAULT),
    /**
     * Serve GraphQL POSTs on the fast path (planned once per document, one round trip of edge
     * checks, single-subgraph answers relayed as they are); false sends every request through Apollo Server.
     */
    GRAPHQL_FAST_PATH: envHelpers.booleanFlag.default(true),
    /**
     * How long a subgraph may take to start answering, and then between chunks of its answer; past
     * it the call is SERVICE_UNAVAILABLE instead of holding the client (undici's own default is 5 minutes).
     */
    SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
    QUERY_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
    QUERY_MAX_COST: z.coerce.number().int().min(1).default(5_000),
    RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(600),
    RATE_LIMIT_PER_USER: z.coerce.number().int().min(1).default(1_200),
    /** Client IPs or user ids exempt from rate limits (health checkers, internal jobs). */
    RATE_LIMIT_ALLOWLIST: envHelpers.commaList.default([]),
    TRUST_PROXY: z.string().default('loopback, linklocal, uniquelocal'),
    /**
     * @apollo/gateway's own telemetry: unless disabled it probes cloud metadata endpoints at start
     * and reports usage to Apollo. Off unless the operator sets this to false.
     */
    APOLLO_TELEMETRY_DISABLED: envHelpers.booleanFlag.default(true),
  })
  .superRefine((config, ctx) => {
    if (!config.SUPERGRAPH_PATH && !config.SUBGRAPHS?.length) {
      ctx.addIssue({ code: 'custom', path: ['SUPERGRAPH_PATH'], message: 'or SUBGRAPHS is required' });
    }
    if (config.NODE_ENV === 'production' && !config.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required in production' });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
