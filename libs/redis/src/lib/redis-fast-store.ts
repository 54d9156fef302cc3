import Redis from 'ioredis';
import { FastStore, RateLimitDecision, slidingWindowDecision } from './fast-store';

// One round trip and atomic: reads both windows, decides, and only counts an allowed hit.
const SLIDING_WINDOW_SCRIPT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local current_start = now - (now % window)
local current_key = KEYS[1] .. ':' .. current_start
local previous_key = KEYS[1] .. ':' .. (current_start - window)
local previous = tonumber(redis.call('GET', previous_key) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local elapsed = now % window
local estimated = previous * ((window - elapsed) / window) + current
if estimated + 1 > limit then
  return {0, previous, current}
end
current = redis.call('INCR', current_key)
redis.call('PEXPIRE', current_key, window * 2)
return {1, previous, current - 1}
`;

// Members of an expiring set are scored by their expiry time; expired ones go before counting.
const TOUCH_MEMBER_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('ZCARD', KEYS[1])
`;

// The expiry is set once, by the increment that creates the counter: a usage period has a fixed end.
const INCREMENT_SCRIPT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`;

const REMOVE_MEMBER_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;

export class RedisFastStore implements FastStore {
  readonly kind = 'redis' as const;

  constructor(readonly client: Redis) {
    client.defineCommand('mpSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_SCRIPT });
    client.defineCommand('mpTouchMember', { numberOfKeys: 1, lua: TOUCH_MEMBER_SCRIPT });
    client.defineCommand('mpRemoveMember', { numberOfKeys: 1, lua: REMOVE_MEMBER_SCRIPT });
    client.defineCommand('mpIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  }

  static connect(url: string, keyPrefix: string): RedisFastStore {
    return new RedisFastStore(
      new Redis(url, {
        keyPrefix,
        lazyConnect: false,
        maxRetriesPerRequest: 2,
        enableOfflineQueue: true,
        connectTimeout: 5_000,
      }),
    );
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    if (ttlMs) await this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    else await this.client.set(key, value);
  }

  async del(key: string): Promise<void> {
    await this.client.del(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    return keys.length ? this.client.mget(...keys) : [];
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const client = this.client as Redis & { mpIncrement(key: string, by: number, ttlMs: number): Promise<number> };
    return client.mpIncrement(key, by, Math.max(1, Math.ceil(ttlMs)));
  }

  async hitSlidingWindow(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = Date.now();
    const [allowed, previous, current] = (await (
      this.client as unknown as {
        mpSlidingWindow(key: string, limit: number, window: number, now: number): Promise<[number, number, number]>;
      }
    ).mpSlidingWindow(key, limit, windowMs, now)) as [number, number, number];
    const { count: _count, ...decision } = slidingWindowDecision(previous, current, limit, windowMs, now);
    return { ...decision, allowed: allowed === 1 };
  }

  async touchMember(key: string, member: string, ttlMs: number): Promise<number> {
    const client = this.client as unknown as { mpTouchMember(key: string, now: number, member: string, ttlMs: number): Promise<number> };
    return Number(await client.mpTouchMember(key, Date.now(), member, Math.max(1, Math.ceil(ttlMs))));
  }

  async removeMember(key: string, member: string): Promise<number> {
    const client = this.client as unknown as { mpRemoveMember(key: string, now: number, member: string): Promise<number> };
    return Number(await client.mpRemoveMember(key, Date.now(), member));
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** QUIT waits for the server's answer; a server that never answers must not hang shutdown. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 1_000)));
    const outcome = await Promise.race([this.client.quit().catch(() => 'failed' as const), gaveUp]);
    clearTimeout(timer);
    if (outcome !== 'OK') this.client.disconnect();
  }
}
