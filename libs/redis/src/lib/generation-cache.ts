import { Logger } from '@nestjs/common';
import type { FastStore } from './fast-store';

export interface GenerationCacheOptions {
  /** Key prefix, e.g. `content:document`; also names the cache in warnings. */
  name: string;
  /** How long a cached value lives. */
  ttlMs: number;
  /**
   * How long a bumped generation lives; unset, forever. It must outlive every value stored under an
   * older generation (at least `ttlMs`), or an expired generation would bring stale values back.
   */
  generationTtlMs?: number;
  /** Called on every lookup, for a hit/miss metric. */
  onLookup?: (outcome: 'hit' | 'miss') => void;
}

export interface GenerationCodec<T> {
  /** The stored text, or undefined to not cache this value (e.g. "not found"). Default: JSON. */
  encode?: (value: T) => string | undefined;
  /** Default: JSON.parse. */
  decode?: (text: string) => T;
}

/**
 * A read-through cache in the fast store whose entries are grouped by scope (a document, a tenant)
 * under a generation counter: invalidating a scope bumps its generation, so every value computed
 * before the change sits under a generation nobody asks for any more, however many keys it had, and
 * a reader that loaded old data just before the bump stores it there too. Writers bump right after
 * their commit (and consumers again when the change's event arrives, for writes made elsewhere).
 * The cache only saves work: when the store fails, values are loaded and not cached.
 */
export class GenerationCache {
  private readonly logger: Logger;

  constructor(
    private readonly store: FastStore,
    private readonly options: GenerationCacheOptions,
  ) {
    this.logger = new Logger(`GenerationCache(${options.name})`);
  }

  /** The cached value of `key` within `scope`, or what `load` returns (then cached). */
  async getOrLoad<T>(scope: string, key: string, load: () => Promise<T>, codec: GenerationCodec<T> = {}): Promise<T> {
    let storeKey: string | undefined;
    try {
      const generation = (await this.store.get(this.generationKey(scope))) ?? '0';
      storeKey = `${this.options.name}:${scope}:${generation}${key ? `:${key}` : ''}`;
      const cached = await this.store.get(storeKey);
      if (cached !== null) {
        this.options.onLookup?.('hit');
        return codec.decode ? codec.decode(cached) : (JSON.parse(cached) as T);
      }
    } catch (error) {
      this.logger.warn({ err: error }, `${this.options.name} cache unavailable`);
      storeKey = undefined;
    }
    this.options.onLookup?.('miss');
    const value = await load();
    const text = codec.encode ? codec.encode(value) : JSON.stringify(value);
    if (storeKey && text !== undefined) await this.store.set(storeKey, text, this.options.ttlMs).catch(() => undefined);
    return value;
  }

  /** Makes every value cached for `scope` so far unreachable. */
  async invalidate(scope: string): Promise<void> {
    const generation = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await this.store.set(this.generationKey(scope), generation, this.options.generationTtlMs);
  }

  private generationKey(scope: string): string {
    return `${this.options.name}-generation:${scope}`;
  }
}
