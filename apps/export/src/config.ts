import { z } from 'zod';
import { envHelpers } from '@multipult/config';
import { defineSubgraphConfig } from '@multipult/subgraph';

const DEVELOPMENT_JIRA_TOKEN_SEAL_KEY = 'development-only-jira-token-seal-key-change-me';

/** The kit's variables (database, Redis, Kafka, token verification, PORT 4004) and the service's own. */
export const exportConfigSchema = defineSubgraphConfig(
  'export',
  {
    /** Seals JIRA API tokens and webhook secrets at rest (≥32 characters); the development default is refused in production. */
    JIRA_TOKEN_SEAL_KEY: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_JIRA_TOKEN_SEAL_KEY),
    /** Let JIRA connections reach loopback, private and link-local addresses and plain http (off: SSRF protection, https only). */
    JIRA_ALLOW_PRIVATE_NETWORKS: envHelpers.booleanFlag.default(false),
    /** Requests a second to one JIRA connection, across all replicas. */
    JIRA_REQUESTS_PER_SECOND: z.coerce.number().int().min(1).max(100).default(10),
    JIRA_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(30_000),
    /** Attempts of one bulk entry JIRA refuses before it becomes a failed result. */
    JIRA_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
    /** Backoff of retried requests and refused entries: INITIAL · 2^(n-1), at most MAX, with jitter. */
    JIRA_RETRY_INITIAL_MS: z.coerce.number().int().min(1).default(500),
    JIRA_RETRY_MAX_MS: z.coerce.number().int().min(1).default(30_000),
    /** Longest a JIRA answer may ask us to wait (Retry-After, X-RateLimit-Reset) before the export gives up. */
    JIRA_MAX_PAUSE_SECONDS: z.coerce.number().int().min(1).default(300),
    /** How long a webhook's X-Atlassian-Webhook-Identifier is remembered, so a redelivery is dropped. */
    JIRA_WEBHOOK_DEDUP_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  },
  (config, ctx) => {
    if (config.NODE_ENV === 'production' && config.JIRA_TOKEN_SEAL_KEY === DEVELOPMENT_JIRA_TOKEN_SEAL_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JIRA_TOKEN_SEAL_KEY'], message: 'must be set to a secret of your own in production' });
    }
  },
);

export type ExportConfig = z.infer<typeof exportConfigSchema>;
