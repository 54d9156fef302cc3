import { eventually } from '@multipult/testing';
import { RedisFastStore } from './redis-fast-store';

const WINDOW_MS = 2_000;
const LIMIT = 4;

/**
 * The Redis sliding window against the real server: its clock decides the windows (the client's
 * is never sent), the previous window's hits carry over weighted, and the script touches only
 * the key it is given, as Redis Cluster requires.
 */
describe('Redis sliding-window rate limit', () => {
  const prefix = `test:${process.pid}:${Date.now()}:`;
  let store: RedisFastStore;

  beforeAll(() => {
    store = RedisFastStore.connect(process.env.REDIS_URL as string, prefix);
  });
  afterAll(() => store.close());

  const serverNowMs = async () => {
    const [seconds, microseconds] = await store.client.time();
    return Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
  };
  /** Waits on the server's clock until it is early in a window of at least `window`; answers that window's number. */
  const reachWindow = (atLeast: number) =>
    eventually(`server window ${atLeast}`, async () => {
      const now = await serverNowMs();
      const window = Math.floor(now / WINDOW_MS);
      return window >= atLeast && now % WINDOW_MS < WINDOW_MS / 4 ? window : undefined;
    });

  it('rolls the window over on the server clock, carrying the previous window weighted, then forgets it', async () => {
    const key = `rl:rollover:${Math.random()}`;
    const first = await reachWindow(Math.floor((await serverNowMs()) / WINDOW_MS) + 1);
    const hits = [];
    for (let i = 0; i <= LIMIT; i += 1) hits.push(await store.hitSlidingWindow(key, LIMIT, WINDOW_MS));
    expect(hits.map((hit) => hit.allowed)).toEqual([true, true, true, true, false]);
    expect(hits.map((hit) => hit.remaining)).toEqual([3, 2, 1, 0, 0]);
    // resetMs comes from the server's time: all in the window reached above.
    for (const hit of hits) expect(hit.resetMs).toBeGreaterThan(WINDOW_MS / 4);

    await reachWindow(first + 1);
    const carried = await store.hitSlidingWindow(key, LIMIT, WINDOW_MS);
    const elapsed = WINDOW_MS - carried.resetMs;
    expect(elapsed).toBeLessThan(WINDOW_MS);
    // The previous window's 4 hits weigh (WINDOW - elapsed) / WINDOW: no room before a quarter of the window.
    const estimated = (LIMIT * (WINDOW_MS - elapsed)) / WINDOW_MS;
    expect(carried.allowed).toBe(estimated + 1 <= LIMIT);
    expect(carried.remaining).toBe(carried.allowed ? Math.floor(LIMIT - estimated - 1) : 0);
    if (!carried.allowed) expect(carried.retryAfterMs).toBeLessThanOrEqual(WINDOW_MS / 4 - elapsed + 1);

    // Two windows after the last counted hit nothing carries over: the whole limit again.
    await reachWindow(first + 3);
    const fresh = [];
    for (let i = 0; i <= LIMIT; i += 1) fresh.push(await store.hitSlidingWindow(key, LIMIT, WINDOW_MS));
    expect(fresh.map((hit) => hit.allowed)).toEqual([true, true, true, true, false]);
    expect(fresh[0].remaining).toBe(LIMIT - 1);

    // One key only, which expires: nothing else was written.
    expect(await store.client.keys(`${prefix}*`)).toEqual([`${prefix}${key}`]);
    expect(await store.client.pttl(key)).toBeGreaterThan(0);
  });

  it('ignores the client clock', async () => {
    const key = `rl:clock:${Math.random()}`;
    const realNow = Date.now;
    Date.now = () => realNow() + 10 * WINDOW_MS;
    try {
      for (let i = 0; i < LIMIT; i += 1) expect((await store.hitSlidingWindow(key, LIMIT, WINDOW_MS)).allowed).toBe(true);
    } finally {
      Date.now = realNow;
    }
    expect((await store.hitSlidingWindow(key, LIMIT, WINDOW_MS)).allowed).toBe(false);
  });
});
