import { Logger } from '@nestjs/common';
import type { FastStore, FastStoreWrite } from './fast-store';

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
 * before the change is tagged with a generation nobody asks for any more, however many keys it
 * had, and a reader that loaded old data just before the bump tags it so too. Writers bump right
 * after their commit (and consumers again when the change's event arrives, for writes made
 * elsewhere). A lookup reads the scope's generation and the value in one round trip and takes the
 * value only when it carries that generation. The cache only saves work: when the store fails,
 * values are loaded and not cached.
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
    const values = await this.getOrLoadMany([scope], key, async () => new Map([[scope, await load()]]), codec);
    return values.get(scope) as T;
  }

  /**
   * The cached values of `key` within each of `scopes`, and what `loadMany` returns for the rest
   * (then cached): one round trip to the store and one load, whatever the number of scopes. A scope
   * `loadMany` leaves out is absent from the answer and not cached.
   */
  async getOrLoadMany<T>(scopes: string[], key: string, loadMany: (scopes: string[]) => Promise<Map<string, T>>, codec: GenerationCodec<T> = {}): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const tags = new Map<string, string>();
    const unique = [...new Set(scopes)];
    if (!unique.length) return found;
    try {
      const stored = await this.store.getMany(unique.flatMap((scope) => [this.generationKey(scope), this.valueKey(scope, key)]));
      unique.forEach((scope, index) => {
        const tag = `${stored[index * 2] ?? '0'}\n`;
        const value = stored[index * 2 + 1];
        if (value?.startsWith(tag)) {
          const cached = value.slice(tag.length);
          found.set(scope, codec.decode ? codec.decode(cached) : (JSON.parse(cached) as T));
        } else tags.set(scope, tag);
      });
    } catch (error) {
      this.logger.warn({ err: error }, `${this.options.name} cache unavailable`);
      found.clear();
    }
    for (const scope of unique) this.options.onLookup?.(found.has(scope) ? 'hit' : 'miss');
    const missing = unique.filter((scope) => !found.has(scope));
    if (!missing.length) return found;
    const loaded = await loadMany(missing);
    const writes: FastStoreWrite[] = [];
    for (const [scope, value] of loaded) {
      found.set(scope, value);
      const tag = tags.get(scope);
      const text = codec.encode ? codec.encode(value) : JSON.stringify(value);
      if (tag !== undefined && text !== undefined) writes.push({ key: this.valueKey(scope, key), value: tag + text, ttlMs: this.options.ttlMs });
    }
    // Not awaited: the caller has its values, and a failed store only costs the next caller a load.
    if (writes.length) this.store.writeMany(writes).catch(() => undefined);
    return found;
  }

  /** Makes every value cached for `scope` so far unreachable. */
  async invalidate(scope: string): Promise<void> {
    const generation = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await this.store.set(this.generationKey(scope), generation, this.options.generationTtlMs);
  }

  private valueKey(scope: string, key: string): string {
    return `${this.options.name}:${scope}${key ? `:${key}` : ''}`;
  }

  private generationKey(scope: string): string {
    return `${this.options.name}-generation:${scope}`;
  }
}
