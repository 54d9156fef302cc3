import { z } from 'zod';
import { booleanFlag } from '@multipult/config';

/** Variables of the durable jobs of a service (merge into the service's config schema beside databaseEnv). */
export const jobsEnv = {
  /** Connections of the job pool, apart from the service's TypeORM pool. */
  JOBS_POOL_MAX: z.coerce.number().int().min(2).max(100).default(4),
  /** How often an idle worker asks for new jobs. */
  JOBS_POLL_INTERVAL_SECONDS: z.coerce.number().min(0.5).max(60).default(2),
  /** How often one replica (whichever claims the pass) turns due cron schedules into jobs. */
  JOBS_CRON_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(45).default(30),
  /** How often one replica fails jobs past their attempt timeout (their worker died), so they are retried. */
  JOBS_SUPERVISE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * On queues defined with `heartbeat` (long jobs) and recurring runs, a running job's worker refreshes its claim every
   * half of this. A claim not refreshed for this long (its replica died, or lost the database while
   * recording the outcome) is failed at the next supervise pass and the job retried, instead of
   * staying active until its attempt timeout.
   */
  JOBS_HEARTBEAT_SECONDS: z.coerce.number().int().min(10).max(3600).default(30),
  /** How often running jobs are checked for a cancellation made by any replica. */
  JOBS_CANCEL_CHECK_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  /** Progress rows older than this are removed. */
  JOBS_PROGRESS_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  /**
   * false: this replica enqueues, cancels and reads jobs but runs none (nor recurring work); replicas
   * with true run them. With EVENT_CONSUMERS_ENABLED=false, a replica that only serves clients.
   */
  JOBS_WORKERS_ENABLED: booleanFlag.default(true),
};

/** What JobsModule reads from the service's validated configuration. */
export interface JobsConfig {
  DATABASE_URL: string;
  DATABASE_SOCKET_TIMEOUT_MS: number;
  /** Running jobs get this long to finish at shutdown; the rest are failed and retried elsewhere. */
  SHUTDOWN_GRACE_SECONDS: number;
  JOBS_POOL_MAX: number;
  JOBS_POLL_INTERVAL_SECONDS: number;
  JOBS_CRON_INTERVAL_SECONDS: number;
  JOBS_SUPERVISE_INTERVAL_SECONDS: number;
  JOBS_HEARTBEAT_SECONDS: number;
  JOBS_CANCEL_CHECK_MS: number;
  JOBS_PROGRESS_RETENTION_DAYS: number;
  JOBS_WORKERS_ENABLED: boolean;
}
