import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import { embeddedHubPort } from '@multipult/embedded';
import { FAST_STORE, FastStore } from './fast-store';
import { HubFastStore } from './hub-fast-store';
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
 * Redis when configured; otherwise the embedded launcher's store (shared by every service it runs,
 * so e.g. a session revoked by auth is refused by the gateway too), or a store of this process alone.
 */
export function createFastStore(config: RedisConfig, logger = new Logger('FastStore')): FastStore {
  if (config.REDIS_URL) return RedisFastStore.connect(config.REDIS_URL, config.REDIS_KEY_PREFIX);
  const hub = embeddedHubPort();
  logger.warn(
    hub
      ? "REDIS_URL is not set: using the embedded launcher's in-process store (not for production)"
      : 'REDIS_URL is not set: using an in-process store (single instance only; state is lost on restart)',
  );
  return hub ? new HubFastStore(hub) : new MemoryFastStore();
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
