import { FastStore } from './fast-store';
import { GenerationCache } from './generation-cache';
import { MemoryFastStore } from './memory-fast-store';
import { RedisFastStore } from './redis-fast-store';

const redisUrl = process.env.REDIS_URL as string;

describe.each([
  ['redis', () => RedisFastStore.connect(redisUrl, `test:${process.pid}:${Date.now()}:`)],
  ['memory', () => new MemoryFastStore()],
])('generation cache over the %s fast store', (_kind, create: () => FastStore) => {
  let store: FastStore;
  let cache: GenerationCache;
  const lookups: string[] = [];

  beforeAll(() => {
    store = create();
    cache = new GenerationCache(store, { name: 'test:things', ttlMs: 60_000, onLookup: (outcome) => lookups.push(outcome) });
  });
  afterAll(() => store.close());
  beforeEach(() => lookups.splice(0));

  it('loads once, then answers from the store', async () => {
    const scope = `scope-${Math.random()}`;
    let loads = 0;
    const load = async () => ({ loads: (loads += 1) });
    expect(await cache.getOrLoad(scope, 'a', load)).toEqual({ loads: 1 });
    expect(await cache.getOrLoad(scope, 'a', load)).toEqual({ loads: 1 });
    expect(await cache.getOrLoad(scope, 'b', load)).toEqual({ loads: 2 });
    expect(lookups).toEqual(['miss', 'hit', 'miss']);
  });

  it('stores a value only once its key has missed minUses times, and counts the misses across a bump', async () => {
    const popular = new GenerationCache(store, { name: 'test:popular', ttlMs: 60_000, minUses: 2 });
    const scope = `scope-${Math.random()}`;
    let loads = 0;
    const load = async () => (loads += 1);
    expect(await popular.getOrLoad(scope, 'once', load)).toBe(1);
    expect(await popular.getOrLoad(scope, 'twice', load)).toBe(2);
    expect(await popular.getOrLoad(scope, 'twice', load)).toBe(3);
    expect(await popular.getOrLoad(scope, 'twice', load)).toBe(3);
    // A key that has met minUses is stored again at once after its scope's generation is bumped.
    await popular.invalidate(scope);
    expect(await popular.getOrLoad(scope, 'twice', load)).toBe(4);
    expect(await popular.getOrLoad(scope, 'twice', load)).toBe(4);
    expect(loads).toBe(4);
  });

  it('drops every key of a scope, and only that scope, when its generation is bumped', async () => {
    const [scope, other] = [`scope-${Math.random()}`, `scope-${Math.random()}`];
    let version = 1;
    const load = async () => version;
    await cache.getOrLoad(scope, 'a', load);
    await cache.getOrLoad(scope, 'b', load);
    await cache.getOrLoad(other, 'a', load);
    version = 2;
    await cache.invalidate(scope);
    expect(await cache.getOrLoad(scope, 'a', load)).toBe(2);
    expect(await cache.getOrLoad(scope, 'b', load)).toBe(2);
    expect(await cache.getOrLoad(other, 'a', load)).toBe(1);
  });

  it('does not serve a value loaded before a bump and stored after it', async () => {
    const scope = `scope-${Math.random()}`;
    let finishLoad: (value: string) => void = () => undefined;
    const slowLoad = cache.getOrLoad(scope, 'a', () => new Promise<string>((resolve) => (finishLoad = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    await cache.invalidate(scope);
    finishLoad('before the change');
    expect(await slowLoad).toBe('before the change');
    expect(await cache.getOrLoad(scope, 'a', async () => 'after the change')).toBe('after the change');
    expect(await cache.getOrLoad(scope, 'a', async () => 'loaded again')).toBe('after the change');
  });

  it('answers many scopes in one lookup, loading only the missing ones in one call', async () => {
    const [cached, stale, fresh, absent] = [1, 2, 3, 4].map((n) => `scope-${n}-${Math.random()}`);
    await cache.getOrLoad(cached, 'row', async () => 'cached value');
    await cache.getOrLoad(stale, 'row', async () => 'old value');
    await cache.invalidate(stale);
    lookups.splice(0);
    const loads: string[][] = [];
    const loadMany = async (scopes: string[]) => {
      loads.push(scopes);
      return new Map(scopes.filter((scope) => scope !== absent).map((scope) => [scope, `loaded ${scope}`]));
    };
    const first = await cache.getOrLoadMany([cached, stale, fresh, absent, cached], 'row', loadMany);
    expect(Object.fromEntries(first)).toEqual({ [cached]: 'cached value', [stale]: `loaded ${stale}`, [fresh]: `loaded ${fresh}` });
    expect(loads).toEqual([[stale, fresh, absent]]);
    expect(lookups).toEqual(['hit', 'miss', 'miss', 'miss']);

    const again = await cache.getOrLoadMany([cached, stale, fresh, absent], 'row', loadMany);
    expect(Object.fromEntries(again)).toEqual(Object.fromEntries(first));
    expect(loads).toEqual([[stale, fresh, absent], [absent]]);
    expect(await cache.getOrLoad(fresh, 'row', async () => 'not cached')).toBe(`loaded ${fresh}`);
    expect(await cache.getOrLoadMany([], 'row', loadMany)).toEqual(new Map());
  });

  it('answers keys of several scopes in order, each entry tagged with its own scope\'s generation', async () => {
    const [first, second] = [1, 2].map((n) => `scope-${n}-${Math.random()}`);
    const entries = [
      { scope: first, key: 'a', name: 'first a' },
      { scope: second, key: 'a', name: 'second a' },
      { scope: first, key: 'b', name: 'first b' },
      { scope: second, key: 'gone', name: 'second gone' },
    ];
    const loads: string[][] = [];
    let version = 1;
    const loadMany = async (missing: typeof entries) => {
      loads.push(missing.map((entry) => entry.name));
      return missing.map((entry) => (entry.key === 'gone' ? undefined : `${entry.name} v${version}`));
    };
    expect(await cache.getOrLoadEntries(entries, loadMany)).toEqual(['first a v1', 'second a v1', 'first b v1', undefined]);
    version = 2;
    await cache.invalidate(first);
    lookups.splice(0);
    expect(await cache.getOrLoadEntries(entries, loadMany)).toEqual(['first a v2', 'second a v1', 'first b v2', undefined]);
    expect(loads).toEqual([['first a', 'second a', 'first b', 'second gone'], ['first a', 'first b', 'second gone']]);
    expect(lookups).toEqual(['miss', 'hit', 'miss', 'miss']);
    expect(await cache.getOrLoadEntries([], loadMany)).toEqual([]);
  });

  it('does not store what the codec declines, and decodes what it stored', async () => {
    const scope = `scope-${Math.random()}`;
    const codec = {
      encode: (value: Date | null) => (value ? value.toISOString() : undefined),
      decode: (text: string) => new Date(text),
    };
    let loads = 0;
    expect(await cache.getOrLoad(scope, '', async () => ((loads += 1), null), codec)).toBeNull();
    const date = new Date('2026-01-02T03:04:05.000Z');
    expect(await cache.getOrLoad(scope, '', async () => ((loads += 1), date), codec)).toEqual(date);
    const cached = await cache.getOrLoad(scope, '', async () => ((loads += 1), null), codec);
    expect(cached).toBeInstanceOf(Date);
    expect(cached).toEqual(date);
    expect(loads).toBe(2);
  });
});

describe('generation cache without a working store', () => {
  it('loads every time and answers', async () => {
    const store = new MemoryFastStore();
    await store.close();
    const broken = Object.assign(Object.create(store) as FastStore, {
      getMany: () => Promise.reject(new Error('store down')),
    });
    const cache = new GenerationCache(broken, { name: 'test:down', ttlMs: 1_000 });
    let loads = 0;
    expect(await cache.getOrLoad('s', 'k', async () => (loads += 1))).toBe(1);
    expect(await cache.getOrLoad('s', 'k', async () => (loads += 1))).toBe(2);
    const many = await cache.getOrLoadMany(['a', 'b'], 'k', async (scopes) => new Map(scopes.map((scope) => [scope, (loads += 1)])));
    expect(Object.fromEntries(many)).toEqual({ a: 3, b: 4 });
    const entries = await cache.getOrLoadEntries([{ scope: 'a', key: 'k' }], async (missing) => missing.map(() => (loads += 1)));
    expect(entries).toEqual([5]);
  });
});
