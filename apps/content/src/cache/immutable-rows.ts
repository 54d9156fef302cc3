import { LRUCache } from 'lru-cache';

/** Enough for every tag and author a replica's busy tenants name, a few MB at most. */
const IMMUTABLE_ROWS_MAX = 20_000;

/**
 * Rows that never change once created (tags, authors: there is no mutation to rename or delete
 * one), kept in process by tenant and id. Such a cache needs no invalidation and no round trip:
 * search facets name up to 200 of them per request, which cost PostgreSQL more than the search.
 * A row that could change belongs in a generation cache instead (DocumentCacheService).
 */
export class ImmutableRowCache<T extends { id: string }> {
  private readonly rows = new LRUCache<string, T>({ max: IMMUTABLE_ROWS_MAX });

  /** The tenant's rows by id, in the order asked (null for an id that is not the tenant's), loading only the uncached ones. */
  async findByIds(tenantId: string, ids: readonly string[], load: (missing: string[]) => Promise<T[]>): Promise<(T | null)[]> {
    const keyOf = (id: string) => `${tenantId}:${id}`;
    const missing = [...new Set(ids.filter((id) => !this.rows.has(keyOf(id))))];
    if (missing.length) for (const row of await load(missing)) this.rows.set(keyOf(row.id), row);
    return ids.map((id) => this.rows.get(keyOf(id)) ?? null);
  }
}
