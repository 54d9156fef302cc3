import { z } from 'zod';
import { delegationEnv, requireInternalSecretInProduction } from '@multipult/auth';
import { envHelpers } from '@multipult/config';
import { filesEnv, requireFileLinkSecretInProduction } from '@multipult/files';
import { realtimeEnv } from '@multipult/realtime';
import { defineSubgraphConfig } from '@multipult/subgraph';

const DEVELOPMENT_JIRA_TOKEN_SEAL_KEY = 'development-only-jira-token-seal-key-change-me';

/**
 * The kit's variables (database, Redis, Kafka, token verification, PORT 4004, CONTENT_GRAPHQL_URL
 * from the registry's `calls`), download links, delegated access, and the export service's own.
 */
export const exportConfigSchema = defineSubgraphConfig(
  'export',
  {
    ...filesEnv,
    ...delegationEnv,
    ...realtimeEnv,
    /** Where produced files are kept: `local` (EXPORT_STORAGE_DIR: one replica, or a shared volume) or `s3` (any S3-compatible store). */
    EXPORT_STORAGE: z.enum(['local', 's3']).default('local'),
    EXPORT_STORAGE_DIR: z.string().min(1).default('var/exports'),
    EXPORT_S3_BUCKET: z.string().min(3).optional(),
    /** Prepended to every object key. */
    EXPORT_S3_PREFIX: z.string().default('exports/'),
    /** For stores other than AWS (MinIO, Ceph, R2…); AWS's endpoint for the region when unset. */
    EXPORT_S3_ENDPOINT: envHelpers.urlWithProtocols(['http', 'https']).optional(),
    EXPORT_S3_REGION: z.string().default('us-east-1'),
    /** Path-style addressing (bucket in the path), which most S3-compatible stores need. */
    EXPORT_S3_FORCE_PATH_STYLE: envHelpers.booleanFlag.default(false),
    /** Static credentials; unset, the AWS default chain applies (AWS_* variables, web identity, instance role). */
    EXPORT_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    EXPORT_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    /** How long a produced file can be downloaded; the retention job deletes it afterwards. */
    EXPORT_FILE_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(168),
    EXPORT_RETENTION_CHECK_SECONDS: z.coerce.number().min(0.5).max(86_400).default(3600),
    /** Exports this replica renders at once. */
    EXPORT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
    /** Exports of one tenant running at once across all replicas, so one tenant cannot starve the others. */
    EXPORT_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(2),
    /** Retries of a failed attempt (transient errors: content or JIRA unavailable) before the export fails. */
    EXPORT_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
    EXPORT_RETRY_DELAY_SECONDS: z.coerce.number().min(0.1).max(3600).default(10),
    /** An attempt running longer than this is taken as lost (its worker died) and retried. */
    EXPORT_ATTEMPT_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(86_400).default(1800),
    /** Documents one export may hold. */
    EXPORT_MAX_DOCUMENTS: z.coerce.number().int().min(1).max(100_000).default(5000),
    /** How often due export schedules are looked for. */
    EXPORT_SCHEDULE_CHECK_SECONDS: z.coerce.number().min(0.5).max(3600).default(30),
    /** Images documents link to: how long a fetch may take, and whether private addresses and http may be fetched (off: SSRF protection). */
    EXPORT_IMAGE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    EXPORT_IMAGE_ALLOW_PRIVATE_NETWORKS: envHelpers.booleanFlag.default(false),
    /** Largest logo, watermark or document image accepted, in bytes. */
    EXPORT_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(512 * 1024),
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
    requireFileLinkSecretInProduction(config, ctx);
    requireInternalSecretInProduction(config, ctx);
    if (config.EXPORT_STORAGE === 's3' && !config.EXPORT_S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['EXPORT_S3_BUCKET'], message: 'is required when EXPORT_STORAGE is s3' });
    }
    if (Boolean(config.EXPORT_S3_ACCESS_KEY_ID) !== Boolean(config.EXPORT_S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({ code: 'custom', path: ['EXPORT_S3_SECRET_ACCESS_KEY'], message: 'EXPORT_S3_ACCESS_KEY_ID and EXPORT_S3_SECRET_ACCESS_KEY go together' });
    }
    if (config.NODE_ENV === 'production' && config.JIRA_TOKEN_SEAL_KEY === DEVELOPMENT_JIRA_TOKEN_SEAL_KEY) {
      ctx.addIssue({ code: 'custom', path: ['JIRA_TOKEN_SEAL_KEY'], message: 'must be set to a secret of your own in production' });
    }
  },
);

export type ExportConfig = z.infer<typeof exportConfigSchema>;
