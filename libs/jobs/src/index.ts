export * from './lib/jobs-env';
export * from './lib/entity-manager-db';
export * from './lib/job-queue';
export * from './lib/jobs.module';
