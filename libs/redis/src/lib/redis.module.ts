import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import { embeddedHubPort } from '@multipult/embedded';
import { FAST_STORE, FastStore } from './fast-store';
import { HubFastStore } from './hub-fast-store';
import { MemoryFastStore } from './memory-fast-store';
import { MemoryPubSub, PUB_SUB, PubSub, RedisPubSub } from './pub-sub';
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

@Injectable()
class PubSubCloser implements OnApplicationShutdown {
  constructor(@Inject(PUB_SUB) private readonly pubSub: PubSub) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pubSub.close();
  }
}

/** Redis pub/sub when configured; otherwise delivery within this process (one instance only). */
export function createPubSub(config: RedisConfig): PubSub {
  return config.REDIS_URL ? RedisPubSub.connect(config.REDIS_URL, config.REDIS_KEY_PREFIX) : new MemoryPubSub();
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

/** Provides FAST_STORE (and PUB_SUB on request): Redis when REDIS_URL is set, else in-process stand-ins. */
@Global()
@Module({})
export class RedisModule {
  /** `pubSub: true` also provides PUB_SUB (two more Redis connections, so only where fan-out is used). */
  static forRoot(options: { pubSub?: boolean } = {}): DynamicModule {
    const pubSubProviders = options.pubSub
      ? [{ provide: PUB_SUB, inject: [APP_CONFIG], useFactory: (config: RedisConfig) => createPubSub(config) }, PubSubCloser]
      : [];
    return {
      module: RedisModule,
      providers: [
        { provide: FAST_STORE, inject: [APP_CONFIG], useFactory: (config: RedisConfig) => createFastStore(config) },
        FastStoreCloser,
        ...pubSubProviders,
      ],
      exports: [FAST_STORE, ...(options.pubSub ? [PUB_SUB] : [])],
    };
  }
}
