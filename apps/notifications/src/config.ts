import { z } from 'zod';
import { emailTokenSealEnv, envHelpers, requireEmailTokenSealKeyInProduction, retiredEnv } from '@multipult/config';
import { defineSubgraphConfig } from '@multipult/subgraph';
import { realtimeEnv } from '@multipult/realtime';

const DEVELOPMENT_WEBHOOK_SECRET_KEY = 'development-only-webhook-secret-key-change-me';

export const notificationsConfigSchema = defineSubgraphConfig(
  'notifications',
  {
    ...emailTokenSealEnv,
    /** The client app that links in notifications open, e.g. https://app.example.com. */
    APP_URL: envHelpers.urlWithProtocols(['http', 'https']).default('http://localhost:3000'),

    /** smtp(s)://user:pass@host:port; unset outside production, emails are written to the log instead. */
    SMTP_URL: envHelpers.urlWithProtocols(['smtp', 'smtps']).optional(),
    EMAIL_FROM: z.string().min(3).default('Multipult <no-reply@multipult.local>'),
    /** Attempts of one email (its job's retryLimit is one less); a permanent SMTP failure (5xx) is not retried. */
    EMAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    /**
     * Whole seconds, as pg-boss schedules retries: retry n waits INITIAL · 2^(n-1) · (1 to 2, jitter),
     * at most MAX. (The former *_MS variables are no longer read.)
     */
    /** Replaced when emails and webhook deliveries became durable jobs (whole seconds, no polling of their own). */
    ...retiredEnv({
      EMAIL_RETRY_INITIAL_MS: 'EMAIL_RETRY_INITIAL_SECONDS',
      EMAIL_RETRY_MAX_MS: 'EMAIL_RETRY_MAX_SECONDS',
      WEBHOOK_RETRY_INITIAL_MS: 'WEBHOOK_RETRY_INITIAL_SECONDS',
      WEBHOOK_RETRY_MAX_MS: 'WEBHOOK_RETRY_MAX_SECONDS',
      EMAIL_POLL_INTERVAL_MS: 'JOBS_POLL_INTERVAL_SECONDS',
      WEBHOOK_POLL_INTERVAL_MS: 'JOBS_POLL_INTERVAL_SECONDS',
      EMAIL_BATCH_SIZE: 'EMAIL_CONCURRENCY',
      WEBHOOK_BATCH_SIZE: 'WEBHOOK_CONCURRENCY',
    }),
    EMAIL_RETRY_INITIAL_SECONDS: z.coerce.number().int().min(1).default(30),
    EMAIL_RETRY_MAX_SECONDS: z.coerce.number().int().min(1).default(3_600),
    /** Emails one instance sends at once. */
    EMAIL_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(5),
    /** How often due digests are composed (and pending emails without a job, e.g. from the CLI, queued). */
    EMAIL_DIGEST_CHECK_SECONDS: z.coerce.number().min(0.5).max(3_600).default(30),
    EMAIL_SEND_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),

    /** Seals webhook signing secrets at rest (≥32 characters); the development default is refused in production. */
    WEBHOOK_SECRET_KEY: z.string().min(32).default(DEVELOPMENT_WEBHOOK_SECRET_KEY),
    /** Let webhooks reach loopback, private and link-local addresses (off: SSRF protection). */
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: envHelpers.booleanFlag.default(false),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /** Attempts of one delivery (its job's retryLimit is one less). */
    WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
    /** Whole seconds, as for email: retry n waits INITIAL · 2^(n-1) · (1 to 2, jitter), at most MAX. */
    WEBHOOK_RETRY_INITIAL_SECONDS: z.coerce.number().int().min(1).default(10),
    WEBHOOK_RETRY_MAX_SECONDS: z.coerce.number().int().min(1).default(3_600),
    /** Deliveries one instance sends at once. */
    WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(10),
    /** Deliveries to one endpoint in flight at once across all instances, so a slow endpoint holds up only its own. */
    WEBHOOK_CONCURRENCY_PER_ENDPOINT: z.coerce.number().int().min(1).max(20).default(2),
    /** Failed attempts in a row after which an endpoint is turned off until its owner turns it back on. */
    WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(50),
    WEBHOOK_MAX_ENDPOINTS_PER_TENANT: z.coerce.number().int().min(1).max(1_000).default(20),

    /** Sent, failed and digested emails older than this are deleted (pending ones never are). */
    EMAIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Finished (succeeded or failed) webhook deliveries older than this are deleted from the delivery log. */
    WEBHOOK_DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),

    ...realtimeEnv,
    /** Stored notifications read per query while replaying to a (re)subscribing client. */
    REALTIME_REPLAY_PAGE_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  },
  (config, ctx) => {
    requireEmailTokenSealKeyInProduction(config, ctx);
    if (config.NODE_ENV === 'production' && !config.SMTP_URL) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'is required in production' });
    }
    if (config.NODE_ENV === 'production' && config.WEBHOOK_SECRET_KEY === DEVELOPMENT_WEBHOOK_SECRET_KEY) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET_KEY'], message: 'must be set to a secret of your own in production' });
    }
  },
);

export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
