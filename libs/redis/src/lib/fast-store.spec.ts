import { eventually } from '@multipult/testing';
import { FastStore } from './fast-store';
import { MemoryFastStore } from './memory-fast-store';
import { RedisFastStore } from './redis-fast-store';

const redisUrl = process.env.REDIS_URL as string;

describe.each([
  ['redis', () => RedisFastStore.connect(redisUrl, `test:${process.pid}:${Date.now()}:`)],
  ['memory', () => new MemoryFastStore()],
])('%s fast store', (_kind, create: () => FastStore) => {
  let store: FastStore;
  beforeAll(() => {
    store = create();
  });
  afterAll(() => store.close());

  it('sets, reads, expires and deletes values', async () => {
    await store.set('a', '1');
    await store.set('b', '2', 50);
    expect(await store.getMany(['a', 'b', 'missing'])).toEqual(['1', '2', null]);
    await eventually('b to expire', async () => !(await store.exists('b')));
    await store.del('a');
    expect(await store.get('a')).toBeNull();
  });

  it('writes and deletes several keys in one call, with times to live', async () => {
    await store.set('w-gone', 'old');
    await store.writeMany([
      { key: 'w-kept', value: 'x' },
      { key: 'w-short', value: 'y', ttlMs: 50 },
      { key: 'w-gone', value: null },
    ]);
    expect(await store.getMany(['w-kept', 'w-short', 'w-gone'])).toEqual(['x', 'y', null]);
    await eventually('w-short to expire', async () => !(await store.exists('w-short')));
    expect(await store.get('w-kept')).toBe('x');
    await store.writeMany([]);
  });

  it('increments counters that expire a fixed time after they were created', async () => {
    const key = `counter:${Math.random()}`;
    expect(await store.increment(key, 1, 150)).toBe(1);
    expect(await store.increment(key, 4, 60_000)).toBe(5);
    expect(await store.get(key)).toBe('5');
    await eventually('the counter to expire', async () => (await store.get(key)) === null);
    expect(await store.increment(key, 2, 60_000)).toBe(2);
  });

  it('counts the unexpired members of an expiring set', async () => {
    const key = `members:${Math.random()}`;
    expect(await store.touchMember(key, 'a', 60_000)).toBe(1);
    expect(await store.touchMember(key, 'b', 40)).toBe(2);
    expect(await store.touchMember(key, 'a', 60_000)).toBe(2);
    await eventually('b to expire from the set', async () => (await store.removeMember(key, 'missing')) === 1);
    expect(await store.removeMember(key, 'a')).toBe(0);
  });

  it('allows exactly the limit within a window, then refuses with a retry time', async () => {
    const key = `rl:${Math.random()}`;
    const decisions = [];
    for (let i = 0; i < 7; i += 1) decisions.push(await store.hitSlidingWindow(key, 5, 60_000));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    const refused = decisions[6];
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('frees capacity as the window slides', async () => {
    const key = `rl:${Math.random()}`;
    for (let i = 0; i < 3; i += 1) await store.hitSlidingWindow(key, 3, 200);
    const full = Date.now();
    expect((await store.hitSlidingWindow(key, 3, 200)).allowed).toBe(false);
    // Refused hits are not counted, so asking again until one is allowed waits for the window alone.
    await eventually('capacity freed by the sliding window', async () => (await store.hitSlidingWindow(key, 3, 200)).allowed);
    expect(Date.now() - full).toBeLessThan(2_000);
  });
});
