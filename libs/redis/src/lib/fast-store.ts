/** Result of counting one hit against a sliding-window limit. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window has room again (0 when allowed). */
  retryAfterMs: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

/**
 * The small, shared, fast state the platform keeps outside PostgreSQL: revocation marks, rate
 * limits, short-lived flags. Backed by Redis; an in-process stand-in serves the single-instance
 * embedded mode with the same interface.
 */
/** One write of FastStore.writeMany: a value (with an optional time to live) or, for null, a delete. */
export interface FastStoreWrite {
  key: string;
  value: string | null;
  ttlMs?: number;
}

export interface FastStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  del(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Several keys in one round trip; missing keys are null. */
  getMany(keys: string[]): Promise<(string | null)[]>;
  /** Sets (value) or deletes (value null) several keys in one round trip (a pipeline, not atomic). */
  writeMany(writes: FastStoreWrite[]): Promise<void>;
  /**
   * Counts a hit in a sliding window (weighted previous + current fixed window), refusing it
   * without counting once `limit` is reached.
   */
  hitSlidingWindow(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  /** Adds to a counter (created at 0), keeping it `ttlMs` from its first increment; answers the new value. */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  /**
   * Adds or refreshes a member of a set whose members expire one by one (e.g. a user's open
   * connections on every instance, so a crashed instance's ones lapse); answers how many
   * unexpired members the set has now.
   */
  touchMember(key: string, member: string, ttlMs: number): Promise<number>;
  /** Removes a member of such a set; answers how many unexpired members remain. */
  removeMember(key: string, member: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const FAST_STORE = Symbol('FAST_STORE');

/** The sliding-window estimate shared by both implementations. */
export function slidingWindowDecision(
  previousCount: number,
  currentCount: number,
  limit: number,
  windowMs: number,
  nowMs: number,
): RateLimitDecision & { count: boolean } {
  const elapsed = nowMs % windowMs;
  const previousWeight = (windowMs - elapsed) / windowMs;
  const estimated = previousCount * previousWeight + currentCount;
  const resetMs = windowMs - elapsed;
  if (estimated + 1 > limit) {
    // Time until the previous window's weighted share has decayed enough for one more hit.
    const needed = estimated + 1 - limit;
    const retryAfterMs =
      previousCount > 0 && currentCount + 1 <= limit
        ? Math.min(resetMs, Math.ceil((needed / previousCount) * windowMs))
        : resetMs;
    return { allowed: false, count: false, limit, remaining: 0, retryAfterMs: Math.max(1, retryAfterMs), resetMs };
  }
  return {
    allowed: true,
    count: true,
    limit,
    remaining: Math.max(0, Math.floor(limit - estimated - 1)),
    retryAfterMs: 0,
    resetMs,
  };
}
