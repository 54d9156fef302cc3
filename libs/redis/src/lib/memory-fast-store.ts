import { AdmissionCheck, AdmissionDecision, FastStore, FastStoreWrite, RateLimitDecision, admitStepByStep, slidingWindowDecision } from './fast-store';

/** In-process stand-in for Redis: correct for one instance only, nothing shared, nothing persisted. */
export class MemoryFastStore implements FastStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly sets = new Map<string, Map<string, number>>();
  private readonly sweeper = setInterval(() => this.sweep(), 30_000).unref();

  private read(key: string): string | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const key of this.sets.keys()) this.liveMembers(key);
  }

  async get(key: string): Promise<string | null> {
    return this.read(key);
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: ttlMs ? Date.now() + ttlMs : Number.POSITIVE_INFINITY });
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.read(key) !== null;
  }

  async getMany(keys: string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.read(key));
  }

  async writeMany(writes: FastStoreWrite[]): Promise<void> {
    for (const { key, value, ttlMs } of writes) {
      if (value === null) await this.del(key);
      else await this.set(key, value, ttlMs);
    }
  }

  admit(check: AdmissionCheck): Promise<AdmissionDecision> {
    return admitStepByStep(this, check);
  }

  async increment(key: string, by: number, ttlMs: number): Promise<number> {
    const existing = this.read(key);
    const value = Number(existing ?? 0) + by;
    const expiresAt = existing === null ? Date.now() + ttlMs : (this.entries.get(key) as { expiresAt: number }).expiresAt;
    this.entries.set(key, { value: String(value), expiresAt });
    return value;
  }

  async hitSlidingWindow(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    const now = Date.now();
    const currentStart = now - (now % windowMs);
    const currentKey = `${key}:${currentStart}`;
    const previous = Number(this.read(`${key}:${currentStart - windowMs}`) ?? 0);
    const current = Number(this.read(currentKey) ?? 0);
    const { count, ...decision } = slidingWindowDecision(previous, current, limit, windowMs, now);
    if (count) await this.set(currentKey, String(current + 1), windowMs * 2);
    return decision;
  }

  async touchMember(key: string, member: string, ttlMs: number): Promise<number> {
    let members = this.sets.get(key);
    if (!members) this.sets.set(key, (members = new Map()));
    members.set(member, Date.now() + ttlMs);
    return this.liveMembers(key);
  }

  async removeMember(key: string, member: string): Promise<number> {
    this.sets.get(key)?.delete(member);
    return this.liveMembers(key);
  }

  private liveMembers(key: string): number {
    const members = this.sets.get(key);
    if (!members) return 0;
    const now = Date.now();
    for (const [member, expiresAt] of members) if (expiresAt <= now) members.delete(member);
    if (!members.size) this.sets.delete(key);
    return members.size;
  }

  async ping(): Promise<void> {
    return;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.sets.clear();
  }
}
