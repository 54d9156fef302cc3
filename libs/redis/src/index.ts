export * from './lib/fast-store';
export * from './lib/redis-fast-store';
export * from './lib/memory-fast-store';
export * from './lib/redis.module';
export * from './lib/hub-fast-store';
export * from './lib/pub-sub';
export * from './lib/generation-cache';
