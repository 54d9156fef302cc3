export * from './lib/database.module';
export * from './lib/query-logger';
export * from './lib/unique-violation';
export * from './lib/delete-in-batches';
export * from './lib/lost-connection-guard';
export * from './lib/statement-cache';
export * from './lib/affected-rows';
export * from './lib/silent-connection-bound';
