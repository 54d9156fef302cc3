export * from './lib/errors';
export * from './lib/messages';
export * from './lib/format-error';
export * from './lib/validation';
export * from './lib/pagination';
export * from './lib/subgraph-options';
export * from './lib/metrics.plugin';
export * from './lib/service-app';
