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

/**
 * Everything the edge counts and checks for one request, answered in one round trip
 * (FastStore.admit): the token's revocation marks, the sliding windows, and the usage counters of
 * an admitted request.
 */
export interface AdmissionCheck {
  windowMs: number;
  /**
   * Counted in order, each on its own: a window at its limit refuses without counting. A window
   * marked `skipWhenRevoked` (the caller's own) is not touched for a revoked token, so a stolen,
   * revoked token cannot use up its owner's allowance.
   */
  windows: { key: string; limit: number; skipWhenRevoked?: boolean }[];
  /** The caller's token: revoked when `sessionKey` exists or `userKey` holds a cut-off after `issuedAtMs` (see @multipult/auth). */
  revocation?: { sessionKey: string; userKey: string; issuedAtMs: number };
  /** Incremented (expiring `ttlMs` after creation) only when every window allowed and the token is not revoked. */
  counters?: { key: string; ttlMs: number }[];
}

export interface AdmissionDecision {
  revoked: boolean;
  /** One per window of the check, in its order; null for a window skipped because the token is revoked. */
  windows: (RateLimitDecision | null)[];
}

/** Answers an AdmissionCheck from the store's single-key operations (the in-process stores). */
export async function admitStepByStep(store: FastStore, check: AdmissionCheck): Promise<AdmissionDecision> {
  let revoked = false;
  if (check.revocation) {
    const { sessionKey, userKey, issuedAtMs } = check.revocation;
    const [sessionMark, userMark] = await store.getMany([sessionKey, userKey]);
    revoked = sessionMark !== null || (userMark !== null && issuedAtMs + 1000 <= Number(userMark));
  }
  const windows: (RateLimitDecision | null)[] = [];
  for (const { key, limit, skipWhenRevoked } of check.windows) {
    windows.push(revoked && skipWhenRevoked ? null : await store.hitSlidingWindow(key, limit, check.windowMs));
  }
  if (!revoked && windows.every((decision) => decision?.allowed)) {
    for (const { key, ttlMs } of check.counters ?? []) await store.increment(key, 1, ttlMs);
  }
  return { revoked, windows };
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
  /** Checks and counts one request at the edge (see AdmissionCheck); atomic and one round trip on Redis. */
  admit(check: AdmissionCheck): Promise<AdmissionDecision>;
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
