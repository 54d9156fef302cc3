import { FastStore } from '@multipult/redis';

const DAY_MS = 86_400_000;

/** UTC calendar periods: the day (`2026-12-01`) and the month (`2026-12`). */
function periods(at: Date): { day: string; month: string } {
  const day = at.toISOString().slice(0, 10);
  return { day, month: day.slice(0, 7) };
}

export const tenantUsageKeys = {
  requestsOnDay: (tenantId: string, day: string) => `usage:tenant:${tenantId}:requests:${day}`,
  requestsInMonth: (tenantId: string, month: string) => `usage:tenant:${tenantId}:requests:${month}`,
};

/**
 * Counts an API request made in a tenant, per UTC day (kept 35 days) and month (kept 400 days):
 * the gateway records every authenticated GraphQL request; the auth service reports them.
 */
export async function recordTenantRequest(store: FastStore, tenantId: string, at = new Date()): Promise<void> {
  const { day, month } = periods(at);
  await Promise.all([
    store.increment(tenantUsageKeys.requestsOnDay(tenantId, day), 1, 35 * DAY_MS),
    store.increment(tenantUsageKeys.requestsInMonth(tenantId, month), 1, 400 * DAY_MS),
  ]);
}

export async function tenantRequestCounts(store: FastStore, tenantId: string, at = new Date()): Promise<{ today: number; thisMonth: number }> {
  const { day, month } = periods(at);
  const [today, thisMonth] = await store.getMany([tenantUsageKeys.requestsOnDay(tenantId, day), tenantUsageKeys.requestsInMonth(tenantId, month)]);
  return { today: Number(today ?? 0), thisMonth: Number(thisMonth ?? 0) };
}
