export * from './lib/database.module';
export * from './lib/query-logger';
export * from './lib/unique-violation';
