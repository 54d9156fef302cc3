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
      get: () => Promise.reject(new Error('store down')),
    });
    const cache = new GenerationCache(broken, { name: 'test:down', ttlMs: 1_000 });
    let loads = 0;
    expect(await cache.getOrLoad('s', 'k', async () => (loads += 1))).toBe(1);
    expect(await cache.getOrLoad('s', 'k', async () => (loads += 1))).toBe(2);
  });
});
