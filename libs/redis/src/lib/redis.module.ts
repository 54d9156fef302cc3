import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import { FAST_STORE, FastStore } from './fast-store';
import { MemoryFastStore } from './memory-fast-store';
import { RedisFastStore } from './redis-fast-store';

interface RedisConfig {
  REDIS_URL?: string;
  REDIS_KEY_PREFIX: string;
}

@Injectable()
class FastStoreCloser implements OnApplicationShutdown {
  constructor(@Inject(FAST_STORE) private readonly store: FastStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * One in-process store per process, shared by every service the embedded launcher runs there (each
 * service bundles its own copy of this lib, hence the global symbol), so e.g. a session revoked by
 * auth is refused by the gateway too.
 */
const SHARED_MEMORY_STORE = Symbol.for('multipult.memoryFastStore');

export function createFastStore(config: RedisConfig, logger = new Logger('FastStore')): FastStore {
  if (config.REDIS_URL) return RedisFastStore.connect(config.REDIS_URL, config.REDIS_KEY_PREFIX);
  logger.warn('REDIS_URL is not set: using the in-process store (one process only; state is lost on restart)');
  const registry = globalThis as { [SHARED_MEMORY_STORE]?: MemoryFastStore };
  registry[SHARED_MEMORY_STORE] ??= new MemoryFastStore();
  return registry[SHARED_MEMORY_STORE];
}

/** Provides FAST_STORE: Redis when REDIS_URL is set, else the in-process stand-in. */
@Global()
@Module({})
export class RedisModule {
  static forRoot(): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: FAST_STORE, inject: [APP_CONFIG], useFactory: (config: RedisConfig) => createFastStore(config) },
        FastStoreCloser,
      ],
      exports: [FAST_STORE],
    };
  }
}
