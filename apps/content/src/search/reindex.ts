import { DataSource } from 'typeorm';
import { OutboxWriter, SearchReindexed } from '@multipult/events';
import { SEARCH_CONFIG_BY_LANGUAGE } from '../documents/document.entity';

export interface ReindexReport {
  documents: number;
  translations: number;
  /** Documents whose denormalized tag names, tag or author ids, or configuration were out of date. */
  documentsFixed: number;
  translationsFixed: number;
  /** Rows of the narrow search table after its rebuild (originals and translations). */
  searchEntries: number;
  durationMs: number;
}

/**
 * Rebuilds the search data of existing documents and translations: recomputes the denormalized
 * tag names, tag and author ids and the text search configuration from the language (the generated
 * tsvectors follow), rebuilds the narrow search table (document_search_entries) from its source
 * view, then rebuilds the search indexes, refreshes planner statistics and announces
 * it (search.reindexed) so cached results are dropped. Safe to run while the service serves traffic.
 */
export async function reindexDocuments(dataSource: DataSource): Promise<ReindexReport> {
  const started = Date.now();
  // The same language -> configuration mapping the service writes with.
  const configurations = JSON.stringify(SEARCH_CONFIG_BY_LANGUAGE);
  const [{ fixed: documentsFixed }]: { fixed: number }[] = await dataSource.query(
    `
    WITH expected AS (
      SELECT d.id,
             coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name COLLATE "C") FROM document_tags dt JOIN tags t ON t.id = dt.tag_id
                       WHERE dt.document_id = d.id), '') AS tag_names,
             coalesce((SELECT array_agg(tag_id ORDER BY tag_id) FROM document_tags WHERE document_id = d.id), '{}') AS tag_ids,
             coalesce((SELECT array_agg(author_id ORDER BY position) FROM document_authors WHERE document_id = d.id), '{}') AS author_ids,
             coalesce($1::jsonb ->> d.language, 'simple')::regconfig AS search_config
      FROM documents d
    ),
    updated AS (
      UPDATE documents d SET tag_names = e.tag_names, tag_ids = e.tag_ids, author_ids = e.author_ids, search_config = e.search_config
      FROM expected e
      WHERE d.id = e.id
        AND (d.tag_names, d.tag_ids, d.author_ids, d.search_config) IS DISTINCT FROM (e.tag_names, e.tag_ids, e.author_ids, e.search_config)
      RETURNING d.id
    )
    SELECT count(*)::int AS fixed FROM updated`,
    [configurations],
  );
  const [{ fixed: translationsFixed }]: { fixed: number }[] = await dataSource.query(
    `
    WITH updated AS (
      UPDATE document_translations t SET search_config = coalesce($1::jsonb ->> t.language, 'simple')::regconfig
      WHERE t.search_config IS DISTINCT FROM coalesce($1::jsonb ->> t.language, 'simple')::regconfig
      RETURNING t.id
    )
    SELECT count(*)::int AS fixed FROM updated`,
    [configurations],
  );
  // One transaction: searches read the old rows until it commits; the lock makes concurrent
  // document writes (whose triggers write this table) wait, so no entry is written twice.
  const searchEntries = await dataSource.transaction(async (manager) => {
    await manager.query('LOCK TABLE document_search_entries IN SHARE ROW EXCLUSIVE MODE');
    await manager.query('DELETE FROM document_search_entries');
    const [{ rebuilt }]: { rebuilt: number }[] = await manager.query(`
      WITH inserted AS (
        INSERT INTO document_search_entries
          (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
        SELECT * FROM document_search_sources
        RETURNING 1
      )
      SELECT count(*)::int AS rebuilt FROM inserted`);
    return rebuilt;
  });
  await dataSource.query('REINDEX INDEX CONCURRENTLY document_search_entries_match_idx');
  await dataSource.query('REINDEX INDEX CONCURRENTLY documents_search_idx');
  await dataSource.query('REINDEX INDEX CONCURRENTLY documents_title_trgm_idx');
  await dataSource.query('REINDEX INDEX CONCURRENTLY document_translations_search_idx');
  await dataSource.query('REINDEX INDEX CONCURRENTLY document_translations_title_trgm_idx');
  await dataSource.query('VACUUM (ANALYZE) document_search_entries');
  await dataSource.query('ANALYZE documents, document_translations');
  const [{ documents, translations }]: { documents: number; translations: number }[] = await dataSource.query(
    'SELECT (SELECT count(*)::int FROM documents) AS documents, (SELECT count(*)::int FROM document_translations) AS translations',
  );
  // Running services drop their cached results when this event reaches them (see SearchCacheService).
  await dataSource.transaction(async (manager) => {
    const tenants: { tenant_id: string }[] = await manager.query('SELECT DISTINCT tenant_id FROM documents');
    await new OutboxWriter().enqueue(manager, SearchReindexed, {
      aggregateId: 'search-index',
      payload: { tenantIds: tenants.map((tenant) => tenant.tenant_id) },
    });
  });
  return { documents, translations, documentsFixed, translationsFixed, searchEntries, durationMs: Date.now() - started };
}
