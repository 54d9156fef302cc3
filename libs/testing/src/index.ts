export * from './lib/database';
export * from './lib/kafka-broker';
export * from './lib/graphql-client';
export * from './lib/service-process';
export * from './lib/tenant-isolation';
export * from './lib/platform';
