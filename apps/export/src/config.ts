import { z } from 'zod';
import { delegationEnv, requireInternalSecretInProduction } from '@multipult/auth';
import { filesEnv, requireFileLinkSecretInProduction } from '@multipult/files';
import { realtimeEnv } from '@multipult/realtime';
import { defineSubgraphConfig } from '@multipult/subgraph';

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
    /** Where produced files are kept: a local directory (one replica, or a shared volume). */
    EXPORT_STORAGE_DIR: z.string().min(1).default('var/exports'),
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
    /** Largest logo or watermark image accepted, in bytes. */
    EXPORT_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(512 * 1024),
  },
  (config, ctx) => {
    requireFileLinkSecretInProduction(config, ctx);
    requireInternalSecretInProduction(config, ctx);
  },
);

export type ExportConfig = z.infer<typeof exportConfigSchema>;
