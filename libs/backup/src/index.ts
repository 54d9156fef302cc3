export * from './lib/backup';
export { resolvePgClientTools, type PgClientTools } from './lib/pg-client-tools';
