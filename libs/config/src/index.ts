export * from './lib/load-config';
export * from './lib/env-fragments';
export * from './lib/config.module';
