import Redis from 'ioredis';
import { REDIS_CLIENT_OPTIONS } from './client-options';
import { AdmissionCheck, AdmissionDecision, FastStore, FastStoreWrite, RateLimitDecision, slidingWindowDecision } from './fast-store';

// Millisecond time from the Redis server: every replica of every service decides on one clock.
const SERVER_NOW_MS = `
local server_time = redis.call('TIME')
local now = tonumber(server_time[1]) * 1000 + math.floor(tonumber(server_time[2]) / 1000)
`;

// A sliding-window hit: reads both windows, decides, and only counts an allowed hit. One hash per
// limited subject holds the current window's start and count and the previous window's count.
// Answers allowed (1/0) and the previous and current counts before this hit.
const SLIDING_WINDOW_HIT = `
local function hit(key, limit, window, now)
  local current_start = now - (now % window)
  local state = redis.call('HMGET', key, 'start', 'current', 'previous')
  local stored_start = tonumber(state[1])
  local current = tonumber(state[2]) or 0
  local previous = tonumber(state[3]) or 0
  if stored_start ~= current_start then
    if stored_start == current_start - window then previous = current else previous = 0 end
    current = 0
  end
  local elapsed = now % window
  if previous * ((window - elapsed) / window) + current + 1 > limit then return 0, previous, current end
  redis.call('HSET', key, 'start', string.format('%d', current_start), 'current', current + 1, 'previous', previous)
  redis.call('PEXPIRE', key, window * 2)
  return 1, previous, current
end
`;

// One round trip and atomic; the script touches only the key it is given (Redis Cluster routes it by that key).
const SLIDING_WINDOW_SCRIPT = `
${SERVER_NOW_MS}
${SLIDING_WINDOW_HIT}
local allowed, previous, current = hit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now)
return {allowed, previous, current, now}
`;

// One request's edge admission (FastStore.admit) in one round trip. KEYS: the windows, then (with
// revocation) the session and user marks, then the counters. ARGV: window length, number of
// windows, revocation flag, token issue time, then per window its limit and skip-when-revoked
// flag, then per counter its time to live. Answers {revoked, now, then allowed/previous/current
// per window (allowed -1 when skipped)}.
const ADMIT_SCRIPT = `
${SERVER_NOW_MS}
${SLIDING_WINDOW_HIT}
local window = tonumber(ARGV[1])
local window_count = tonumber(ARGV[2])
local has_revocation = ARGV[3] == '1'
local revoked = 0
local next_key = window_count + 1
if has_revocation then
  if redis.call('EXISTS', KEYS[next_key]) == 1 then revoked = 1 end
  local cut_off = tonumber(redis.call('GET', KEYS[next_key + 1]))
  if cut_off and tonumber(ARGV[4]) + 1000 <= cut_off then revoked = 1 end
  next_key = next_key + 2
end
local answer = {revoked, now}
local all_allowed = true
for i = 1, window_count do
  local limit = tonumber(ARGV[3 + i * 2])
  if revoked == 1 and ARGV[4 + i * 2] == '1' then
    table.insert(answer, -1); table.insert(answer, 0); table.insert(answer, 0)
    all_allowed = false
  else
    local allowed, previous, current = hit(KEYS[i], limit, window, now)
    if allowed == 0 then all_allowed = false end
    table.insert(answer, allowed); table.insert(answer, previous); table.insert(answer, current)
  end
end
if all_allowed and revoked == 0 then
  local ttl_offset = 4 + window_count * 2
  for key_index = next_key, #KEYS do
    local ttl = ARGV[ttl_offset + key_index - next_key + 1]
    if redis.call('INCR', KEYS[key_index]) == 1 then redis.call('PEXPIRE', KEYS[key_index], ttl) end
  end
end
return answer
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
    client.defineCommand('mpAdmit', { lua: ADMIT_SCRIPT });
  }

  static connect(url: string, keyPrefix: string): RedisFastStore {
    return new RedisFastStore(
      new Redis(url, {
        ...REDIS_CLIENT_OPTIONS,
        keyPrefix,
        lazyConnect: false,
        enableOfflineQueue: true,
        // Commands issued in the same tick share one write and one round trip.
        enableAutoPipelining: true,
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

  async admit(check: AdmissionCheck): Promise<AdmissionDecision> {
    const keys = check.windows.map(({ key }) => key);
    const args: (string | number)[] = [check.windowMs, check.windows.length, check.revocation ? 1 : 0, check.revocation?.issuedAtMs ?? 0];
    for (const { limit, skipWhenRevoked } of check.windows) args.push(limit, skipWhenRevoked ? 1 : 0);
    if (check.revocation) keys.push(check.revocation.sessionKey, check.revocation.userKey);
    for (const { key, ttlMs } of check.counters ?? []) {
      keys.push(key);
      args.push(Math.max(1, Math.ceil(ttlMs)));
    }
    const client = this.client as unknown as { mpAdmit(keyCount: number, ...keysAndArgs: (string | number)[]): Promise<number[]> };
    const [revoked, now, ...windowStates] = await client.mpAdmit(keys.length, ...keys, ...args);
    const windows = check.windows.map(({ limit }, index) => {
      const [allowed, previous, current] = windowStates.slice(index * 3, index * 3 + 3);
      if (allowed === -1) return null;
      const { count: _count, ...decision } = slidingWindowDecision(previous, current, limit, check.windowMs, now);
      return { ...decision, allowed: allowed === 1 };
    });
    return { revoked: revoked === 1, windows };
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
