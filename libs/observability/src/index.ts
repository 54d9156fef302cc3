export * from './lib/request-context';
export * from './lib/logger';
export * from './lib/metrics';
export * from './lib/metrics-server';
export * from './lib/observability.module';
export * from './lib/request-context.middleware';
export * from './lib/tracing';
export * from './lib/retention-metrics';
