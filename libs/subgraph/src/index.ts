export * from './lib/subgraph.module';
export * from './lib/subgraph-config';
export * from './lib/event-retention';
