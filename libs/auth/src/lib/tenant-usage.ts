import { FastStore } from '@multipult/redis';

const DAY_MS = 86_400_000;

let lastPeriods: { dayStartMs: number; day: string; month: string } | undefined;

/** UTC calendar periods: the day (`2026-12-01`) and the month (`2026-12`); formatted once a day, not per request. */
function periods(at: Date): { day: string; month: string } {
  const dayStartMs = at.getTime() - (at.getTime() % DAY_MS);
  if (lastPeriods?.dayStartMs !== dayStartMs) {
    const day = at.toISOString().slice(0, 10);
    lastPeriods = { dayStartMs, day, month: day.slice(0, 7) };
  }
  return lastPeriods;
}

export const tenantUsageKeys = {
  requestsOnDay: (tenantId: string, day: string) => `usage:tenant:${tenantId}:requests:${day}`,
  requestsInMonth: (tenantId: string, month: string) => `usage:tenant:${tenantId}:requests:${month}`,
};

/**
 * The counters an API request made in a tenant adds to, per UTC day (kept 35 days) and month (kept
 * 400 days): the gateway counts every authenticated GraphQL request with them (FastStore.admit);
 * the auth service reports them.
 */
export function tenantRequestCounters(tenantId: string, at = new Date()): { key: string; ttlMs: number }[] {
  const { day, month } = periods(at);
  return [
    { key: tenantUsageKeys.requestsOnDay(tenantId, day), ttlMs: 35 * DAY_MS },
    { key: tenantUsageKeys.requestsInMonth(tenantId, month), ttlMs: 400 * DAY_MS },
  ];
}

export async function tenantRequestCounts(store: FastStore, tenantId: string, at = new Date()): Promise<{ today: number; thisMonth: number }> {
  const { day, month } = periods(at);
  const [today, thisMonth] = await store.getMany([tenantUsageKeys.requestsOnDay(tenantId, day), tenantUsageKeys.requestsInMonth(tenantId, month)]);
  return { today: Number(today ?? 0), thisMonth: Number(thisMonth ?? 0) };
}
