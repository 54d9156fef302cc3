import { eventually, startTcpProxy } from '@multipult/testing';
import { REDIS_COMMAND_TIMEOUT_MS } from './client-options';
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

  // Times to live of a second: long enough to read the value back on a loaded machine (CI runs many specs at once).
  it('sets, reads, expires and deletes values', async () => {
    await store.set('a', '1');
    await store.set('b', '2', 1_000);
    expect(await store.getMany(['a', 'b', 'missing'])).toEqual(['1', '2', null]);
    await eventually('b to expire', async () => !(await store.exists('b')));
    await store.del('a');
    expect(await store.get('a')).toBeNull();
  });

  it('writes and deletes several keys in one call, with times to live', async () => {
    await store.set('w-gone', 'old');
    await store.writeMany([
      { key: 'w-kept', value: 'x' },
      { key: 'w-short', value: 'y', ttlMs: 1_000 },
      { key: 'w-gone', value: null },
    ]);
    expect(await store.getMany(['w-kept', 'w-short', 'w-gone'])).toEqual(['x', 'y', null]);
    await eventually('w-short to expire', async () => !(await store.exists('w-short')));
    expect(await store.get('w-kept')).toBe('x');
    await store.writeMany([]);
  });

  it('increments counters that expire a fixed time after they were created', async () => {
    const key = `counter:${Math.random()}`;
    expect(await store.increment(key, 1, 1_000)).toBe(1);
    expect(await store.increment(key, 4, 60_000)).toBe(5);
    expect(await store.get(key)).toBe('5');
    await eventually('the counter to expire', async () => (await store.get(key)) === null);
    expect(await store.increment(key, 2, 60_000)).toBe(2);
  });

  it('admits a request in one call: windows counted on their own, usage counted only when admitted', async () => {
    const id = Math.random();
    const check = (limit: number) => ({
      windowMs: 60_000,
      windows: [
        { key: `adm:ip:${id}`, limit: 10 },
        { key: `adm:user:${id}`, limit, skipWhenRevoked: true },
      ],
      counters: [{ key: `adm:usage:${id}`, ttlMs: 60_000 }],
    });
    const first = await store.admit(check(2));
    expect(first.revoked).toBe(false);
    expect(first.windows.map((decision) => [decision?.allowed, decision?.remaining])).toEqual([
      [true, 9],
      [true, 1],
    ]);
    await store.admit(check(2));
    const refused = await store.admit(check(2));
    expect(refused.windows.map((decision) => decision?.allowed)).toEqual([true, false]);
    expect(refused.windows[1]?.retryAfterMs).toBeGreaterThan(0);
    // The IP window counted all three; the refused request was not counted as usage.
    expect(await store.get(`adm:usage:${id}`)).toBe('2');
    expect((await store.hitSlidingWindow(`adm:ip:${id}`, 10, 60_000)).remaining).toBe(6);
  });

  it('admission reports revoked tokens and then spares the caller\'s own window and usage', async () => {
    const id = Math.random();
    const issuedAtMs = Math.floor(Date.now() / 1000) * 1000 - 5_000;
    const check = {
      windowMs: 60_000,
      windows: [
        { key: `rev:ip:${id}`, limit: 10 },
        { key: `rev:user:${id}`, limit: 10, skipWhenRevoked: true },
      ],
      revocation: { sessionKey: `rev:session:${id}`, userKey: `rev:before:${id}`, issuedAtMs },
      counters: [{ key: `rev:usage:${id}`, ttlMs: 60_000 }],
    };
    expect((await store.admit(check)).revoked).toBe(false);
    // A cut-off a second after the token was issued revokes it; one at its own second does not (iat has second precision).
    await store.set(`rev:before:${id}`, String(issuedAtMs + 1000));
    const cutOff = await store.admit(check);
    expect(cutOff.revoked).toBe(true);
    expect(cutOff.windows[1]).toBeNull();
    await store.set(`rev:before:${id}`, String(issuedAtMs));
    expect((await store.admit(check)).revoked).toBe(false);
    await store.set(`rev:session:${id}`, '1');
    expect((await store.admit(check)).revoked).toBe(true);
    expect(await store.get(`rev:usage:${id}`)).toBe('2');
    expect((await store.hitSlidingWindow(`rev:user:${id}`, 10, 60_000)).remaining).toBe(7);
    expect((await store.hitSlidingWindow(`rev:ip:${id}`, 10, 60_000)).remaining).toBe(5);
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
    // Windows start at multiples of their length: on a loaded machine three hits can straddle a
    // boundary and count less than 3, so a fresh key is filled until all four fall in one window.
    const { key, full, refused } = await eventually('three hits filling one window', async () => {
      const key = `rl:${Math.random()}`;
      for (let i = 0; i < 3; i += 1) await store.hitSlidingWindow(key, 3, 200);
      const full = Date.now();
      const refused = await store.hitSlidingWindow(key, 3, 200);
      return refused.allowed ? false : { key, full, refused };
    });
    expect(refused.allowed).toBe(false);
    // Refused hits are not counted, so asking again until one is allowed waits for the window alone.
    await eventually('capacity freed by the sliding window', async () => (await store.hitSlidingWindow(key, 3, 200)).allowed);
    expect(Date.now() - full).toBeLessThan(2_000);
  });
});

describe('redis fast store on a failing network', () => {
  it('fails a command caught by a dropped connection within its bound, while new connections keep opening and dying', async () => {
    const target = new URL(redisUrl);
    const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const store = RedisFastStore.connect(`redis://127.0.0.1:${relay.port}`, `test:net:${process.pid}:${Date.now()}:`);
    try {
      await store.set('kept', 'v');
      // Written before the drop is seen: the read waits on the connection, not in the offline queue.
      relay.cut('accept-then-drop');
      const startedAt = Date.now();
      await expect(store.get('kept')).rejects.toThrow();
      expect(Date.now() - startedAt).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 5_000);
      expect(relay.refused).toBeGreaterThan(0);
      relay.restore();
      await eventually('the store answering again', async () => (await store.get('kept').catch(() => null)) === 'v');
    } finally {
      relay.restore();
      await store.close();
      await relay.close();
    }
  });
});
