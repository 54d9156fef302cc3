import Redis from 'ioredis';
import { FastStore, FastStoreWrite, RateLimitDecision, slidingWindowDecision } from './fast-store';

// Millisecond time from the Redis server: every replica of every service decides on one clock.
const SERVER_NOW_MS = `
local server_time = redis.call('TIME')
local now = tonumber(server_time[1]) * 1000 + math.floor(tonumber(server_time[2]) / 1000)
`;

// One round trip and atomic: reads both windows, decides, and only counts an allowed hit. One
// hash per limited subject holds the current window's start and count and the previous window's
// count, so the script touches only the key it is given (Redis Cluster routes it by that key).
const SLIDING_WINDOW_SCRIPT = `
${SERVER_NOW_MS}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local current_start = now - (now % window)
local state = redis.call('HMGET', KEYS[1], 'start', 'current', 'previous')
local stored_start = tonumber(state[1])
local current = tonumber(state[2]) or 0
local previous = tonumber(state[3]) or 0
if stored_start ~= current_start then
  if stored_start == current_start - window then previous = current else previous = 0 end
  current = 0
end
local elapsed = now % window
local estimated = previous * ((window - elapsed) / window) + current
if estimated + 1 > limit then
  return {0, previous, current, now}
end
redis.call('HSET', KEYS[1], 'start', string.format('%d', current_start), 'current', current + 1, 'previous', previous)
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, previous, current, now}
`;

// Members of an expiring set are scored by their expiry time; expired ones go before counting.
const TOUCH_MEMBER_SCRIPT = `
${SERVER_NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;

// The expiry is set once, by the increment that creates the counter: a usage period has a fixed end.
const INCREMENT_SCRIPT = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`;

const REMOVE_MEMBER_SCRIPT = `
${SERVER_NOW_MS}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
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

  async writeMany(writes: FastStoreWrite[]): Promise<void> {
    if (!writes.length) return;
    const pipeline = this.client.pipeline();
    for (const { key, value, ttlMs } of writes) {
      if (value === null) pipeline.del(key);
      else if (ttlMs) pipeline.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
      else pipeline.set(key, value);
    }
    const results = (await pipeline.exec()) ?? [];
    const failure = results.find(([error]) => error);
    if (failure) throw failure[0];
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const client = this.client as Redis & { mpIncrement(key: string, by: number, ttlMs: number): Promise<number> };
    return client.mpIncrement(key, by, Math.max(1, Math.ceil(ttlMs)));
  }

  async hitSlidingWindow(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const client = this.client as unknown as {
      mpSlidingWindow(key: string, limit: number, window: number): Promise<[number, number, number, number]>;
    };
    const [allowed, previous, current, now] = await client.mpSlidingWindow(key, limit, windowMs);
    const { count: _count, ...decision } = slidingWindowDecision(previous, current, limit, windowMs, now);
    return { ...decision, allowed: allowed === 1 };
  }

  async touchMember(key: string, member: string, ttlMs: number): Promise<number> {
    const client = this.client as unknown as { mpTouchMember(key: string, member: string, ttlMs: number): Promise<number> };
    return Number(await client.mpTouchMember(key, member, Math.max(1, Math.ceil(ttlMs))));
  }

  async removeMember(key: string, member: string): Promise<number> {
    const client = this.client as unknown as { mpRemoveMember(key: string, member: string): Promise<number> };
    return Number(await client.mpRemoveMember(key, member));
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
