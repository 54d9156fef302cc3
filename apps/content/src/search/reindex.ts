import { DataSource } from 'typeorm';
import { OutboxWriter, SearchReindexed } from '@multipult/events';
import { SEARCH_CONFIG_BY_LANGUAGE } from '../documents/document.entity';

export interface ReindexReport {
  documents: number;
  tagNamesFixed: number;
  durationMs: number;
}

/**
 * Rebuilds the search data of existing documents: recomputes the denormalized tag names and the
 * text search configuration from the language (the generated tsvector follows), then rebuilds the
 * search indexes, refreshes planner statistics and announces it (search.reindexed) so cached results
 * are dropped. Safe to run while the service serves traffic.
 */
export async function reindexDocuments(dataSource: DataSource): Promise<ReindexReport> {
  const started = Date.now();
  const [{ fixed }]: { fixed: number }[] = await dataSource.query(`
    WITH expected AS (
      SELECT d.id,
             coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name COLLATE "C") FROM document_tags dt JOIN tags t ON t.id = dt.tag_id
                       WHERE dt.document_id = d.id), '') AS tag_names,
             coalesce($1::jsonb ->> d.language, 'simple')::regconfig AS search_config
      FROM documents d
    ),
    updated AS (
      UPDATE documents d SET tag_names = e.tag_names, search_config = e.search_config
      FROM expected e
      WHERE d.id = e.id AND (d.tag_names IS DISTINCT FROM e.tag_names OR d.search_config IS DISTINCT FROM e.search_config)
      RETURNING d.id
    )
    SELECT count(*)::int AS fixed FROM updated`,
    // The same language -> configuration mapping the service writes with.
    [JSON.stringify(SEARCH_CONFIG_BY_LANGUAGE)],
  );
  await dataSource.query('REINDEX INDEX CONCURRENTLY documents_search_idx');
  await dataSource.query('REINDEX INDEX CONCURRENTLY documents_title_trgm_idx');
  await dataSource.query('ANALYZE documents');
  const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM documents');
  // Running services drop their cached results when this event reaches them (see SearchCacheService).
  await dataSource.transaction(async (manager) => {
    const tenants: { tenant_id: string }[] = await manager.query('SELECT DISTINCT tenant_id FROM documents');
    await new OutboxWriter().enqueue(manager, SearchReindexed, {
      aggregateId: 'search-index',
      payload: { tenantIds: tenants.map((tenant) => tenant.tenant_id) },
    });
  });
  return { documents: count, tagNamesFixed: fixed, durationMs: Date.now() - started };
}
