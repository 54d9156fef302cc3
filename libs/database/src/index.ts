export * from './lib/database.module';
