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
  /**
   * How many lookups of a key must miss within `ttlMs` before its value is stored (nginx's
   * `proxy_cache_min_uses`); 1, the default, stores on the first miss. Above 1, the misses before
   * are only counted, in a small counter read in the same round trip as the value, so a request made
   * once (most distinct searches are) costs the store no value write and takes no room in it.
   */
  minUses?: number;
  /** Called on every lookup, for a hit/miss metric. */
  onLookup?: (outcome: 'hit' | 'miss') => void;
}

/** A cached value's address: a key within a scope, whose generation it carries. */
export interface GenerationCacheEntry {
  scope: string;
  key: string;
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
    const entries = [...new Set(scopes)].map((scope) => ({ scope, key }));
    const values = await this.getOrLoadEntries(
      entries,
      async (missing) => {
        const loaded = await loadMany(missing.map((entry) => entry.scope));
        return missing.map((entry) => loaded.get(entry.scope));
      },
      codec,
    );
    const found = new Map<string, T>();
    entries.forEach((entry, index) => values[index] !== undefined && found.set(entry.scope, values[index] as T));
    return found;
  }

  /**
   * The cached value of each entry (a key within a scope, e.g. a translation within its document),
   * and what `loadMany` returns for the rest (then cached), in the order of `entries`: one round
   * trip to the store and one load. The entries are distinct; `loadMany` answers in the order of
   * the entries it is given, undefined for one that does not exist (then not cached).
   */
  async getOrLoadEntries<T, E extends GenerationCacheEntry = GenerationCacheEntry>(
    entries: readonly E[],
    loadMany: (missing: E[]) => Promise<(T | undefined)[]>,
    codec: GenerationCodec<T> = {},
  ): Promise<(T | undefined)[]> {
    const values: (T | undefined)[] = entries.map(() => undefined);
    if (!entries.length) return values;
    const scopes = [...new Set(entries.map((entry) => entry.scope))];
    const tags = new Map<string, string>();
    const missing: number[] = [];
    const minUses = this.options.minUses ?? 1;
    // Per entry, its misses counted before this lookup; minUses (store on this miss) when not counted.
    const usesBefore: number[] = entries.map(() => minUses);
    try {
      const useKeys = minUses > 1 ? entries.map((entry) => this.usesKey(entry.scope, entry.key)) : [];
      const stored = await this.store.getMany([
        ...scopes.map((scope) => this.generationKey(scope)),
        ...entries.map((entry) => this.valueKey(entry.scope, entry.key)),
        ...useKeys,
      ]);
      scopes.forEach((scope, index) => tags.set(scope, `${stored[index] ?? '0'}\n`));
      entries.forEach((entry, index) => {
        const tag = tags.get(entry.scope) as string;
        const value = stored[scopes.length + index];
        if (useKeys.length) usesBefore[index] = Number(stored[scopes.length + entries.length + index] ?? 0);
        if (value?.startsWith(tag)) {
          const cached = value.slice(tag.length);
          values[index] = codec.decode ? codec.decode(cached) : (JSON.parse(cached) as T);
        } else missing.push(index);
      });
    } catch (error) {
      this.logger.warn({ err: error }, `${this.options.name} cache unavailable`);
      tags.clear();
      values.fill(undefined);
      missing.splice(0, missing.length, ...entries.keys());
    }
    const missed = new Set(missing);
    entries.forEach((_, index) => this.options.onLookup?.(missed.has(index) ? 'miss' : 'hit'));
    if (!missing.length) return values;
    const loaded = await loadMany(missing.map((index) => entries[index]));
    const writes: FastStoreWrite[] = [];
    const uncountedUses: string[] = [];
    missing.forEach((entryIndex, loadIndex) => {
      const value = loaded[loadIndex];
      if (value === undefined) return;
      values[entryIndex] = value;
      const { scope, key } = entries[entryIndex];
      const tag = tags.get(scope);
      if (tag === undefined) return;
      if (usesBefore[entryIndex] + 1 < minUses) {
        uncountedUses.push(this.usesKey(scope, key));
        return;
      }
      const text = codec.encode ? codec.encode(value) : JSON.stringify(value);
      if (text !== undefined) writes.push({ key: this.valueKey(scope, key), value: tag + text, ttlMs: this.options.ttlMs });
    });
    // Not awaited: the caller has its values, and a failed store only costs the next caller a load.
    if (writes.length) this.store.writeMany(writes).catch(() => undefined);
    for (const usesKey of uncountedUses) this.store.increment(usesKey, 1, this.options.ttlMs).catch(() => undefined);
    return values;
  }

  /** Makes every value cached for `scope` so far unreachable. */
  async invalidate(scope: string): Promise<void> {
    const generation = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await this.store.set(this.generationKey(scope), generation, this.options.generationTtlMs);
  }

  private valueKey(scope: string, key: string): string {
    return `${this.options.name}:${scope}${key ? `:${key}` : ''}`;
  }

  /** Counts a key's misses while it waits for `minUses`; not tagged, so a bump does not reset it. */
  private usesKey(scope: string, key: string): string {
    return `${this.options.name}-uses:${scope}${key ? `:${key}` : ''}`;
  }

  private generationKey(scope: string): string {
    return `${this.options.name}-generation:${scope}`;
  }
}
