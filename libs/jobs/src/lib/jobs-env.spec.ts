import { z } from 'zod';
import { ConfigError, baseEnv, databaseEnv, loadConfig } from '@multipult/config';
import { jobsEnv } from './jobs-env';

const serviceEnv = z.object({ ...baseEnv, ...databaseEnv, ...jobsEnv });
const DATABASE_URL = 'postgres://app@db:5432/app';

describe('jobsEnv', () => {
  it('has working defaults', () => {
    expect(loadConfig(serviceEnv, { DATABASE_URL })).toMatchObject({
      JOBS_POOL_MAX: 4,
      JOBS_POLL_INTERVAL_SECONDS: 2,
      JOBS_CRON_INTERVAL_SECONDS: 30,
      JOBS_SUPERVISE_INTERVAL_SECONDS: 60,
      JOBS_CANCEL_CHECK_MS: 1_000,
      JOBS_PROGRESS_RETENTION_DAYS: 14,
      JOBS_WORKERS_ENABLED: true,
      SHUTDOWN_GRACE_SECONDS: 10,
    });
  });

  it('refuses values pg-boss would reject, naming each variable', () => {
    const load = () =>
      loadConfig(serviceEnv, { DATABASE_URL, JOBS_POLL_INTERVAL_SECONDS: '0.1', JOBS_CRON_INTERVAL_SECONDS: '60', JOBS_POOL_MAX: 'many' });

    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/JOBS_POLL_INTERVAL_SECONDS.*JOBS_CRON_INTERVAL_SECONDS|JOBS_CRON_INTERVAL_SECONDS.*JOBS_POLL_INTERVAL_SECONDS/);
    expect(load).toThrow(/JOBS_POOL_MAX/);
  });
});
