export * from './lib/async-queue';
export * from './lib/messages';
export * from './lib/operation-errors';
export * from './lib/realtime-config';
export * from './lib/realtime-connection';
export * from './lib/realtime-context';
export * from './lib/realtime-sockets';
export * from './lib/realtime.server';
