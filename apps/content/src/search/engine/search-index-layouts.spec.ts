import { DataSource } from 'typeorm';
import { OpenSearchNode, TestDatabase, eventually, startOpenSearchNode } from '@multipult/testing';
import { AuthorsService } from '../../authors/authors.service';
import { TagsService } from '../../tags/tags.service';
import { SearchCacheService } from '../../cache/search-cache.service';
import type { ContentConfig } from '../../config';
import { EDITOR, READER, TENANT, allPages, createSearchCorpus, passThroughCache, passThroughDocumentCache, referenceSearch } from '../search-corpus.testing';
import { SearchSort } from '../dto';
import { SearchService } from '../search.service';
import { INDEX_VERSION, SearchEngine, detachSearchEngine } from './search-engine';
import { SearchIndexerService } from './search-indexer.service';

// A real OpenSearch node and real PostgreSQL: a replica of this code meets the index of the
// previous layout version behind the alias, kept current by a replica of that version, and moves
// the platform to its own layout while both serve and documents are written. Both replicas are
// stepped by hand so each stage can be looked at; in a service their loops step them.

/** A replica of the previous code: the same layout under the previous version's name is enough to play it. */
class PreviousLayoutEngine extends SearchEngine {
  override readonly version = INDEX_VERSION - 1;
}


/** A replica of a release `ahead` layouts past this code's. */
const releaseAhead = (ahead: number) =>
  class extends SearchEngine {
    override readonly version = INDEX_VERSION + ahead;
  };

describe('moving the engine to a new index layout while it serves', () => {
  let node: OpenSearchNode;
  let database: TestDatabase;
  let dataSource: DataSource;
  let config: ContentConfig;
  let previousEngine: SearchEngine;
  let currentEngine: SearchEngine;
  let previous: SearchIndexerService;
  let current: SearchIndexerService;
  const cache = { ...passThroughCache, invalidateTenant: async () => undefined } as unknown as SearchCacheService;
  const count = async (table: string) => (await dataSource.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n as number;
  const queuedForBuild = async () => (await dataSource.query('SELECT DISTINCT document_id FROM search_index_build_changes')).map((row: { document_id: string }) => row.document_id);
  const serviceWith = (engine: SearchEngine) =>
    new SearchService(dataSource, { ...config, SEARCH_FUZZY_THRESHOLD: 0 }, cache, engine, passThroughDocumentCache, new TagsService(dataSource), new AuthorsService(dataSource));
  const found = async (engine: SearchEngine, query: string) => (await serviceWith(engine).search(EDITOR, { query })).edges.map((edge) => edge.node.document.id);
  /** Steps a replica until it has nothing more to write. */
  const settle = async (indexer: SearchIndexerService) => {
    for (let round = 0; round < 100; round++) if ((await indexer.step()) === 0) return;
    throw new Error('the indexer did not settle in 100 rounds');
  };
  const indexes = async () => Object.keys((await previousEngine.requireClient().indices.get({ index: 'spec-layouts-*' })).body).sort();
  const aliasTarget = () => new SearchEngine(config).currentIndex();
  /** The index's refresh_interval when set on it (undefined: the engine's default). */
  const refreshInterval = async (index: string) => {
    const { body } = await previousEngine.requireClient().indices.getSettings({ index, name: 'index.refresh_interval', flat_settings: true });
    return (body as Record<string, { settings: Record<string, string> } | undefined>)[index]?.settings['index.refresh_interval'];
  };

  beforeAll(async () => {
    [node, { database, dataSource }] = await Promise.all([startOpenSearchNode({ heapMb: 384 }), createSearchCorpus('content_search_layouts')]);
    config = {
      SEARCH_FUZZY_THRESHOLD: 3,
      SEARCH_TOTAL_HITS_LIMIT: 10_000,
      SEARCH_RESCORE_WINDOW: 300,
      SEARCH_ENGINE_URL: node.url,
      SEARCH_ENGINE_INDEX: 'spec-layouts',
      SEARCH_ENGINE_BATCH_SIZE: 100,
      SEARCH_ENGINE_POLL_INTERVAL_MS: 100,
    } as ContentConfig;
    previousEngine = new PreviousLayoutEngine(config);
    currentEngine = new SearchEngine(config);
    previous = new SearchIndexerService(dataSource, config, previousEngine, cache);
    current = new SearchIndexerService(dataSource, config, currentEngine, cache);
  }, 240_000);

  afterAll(async () => {
    await node?.stop();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('builds the first index while PostgreSQL answers, and gives it the alias once every document is in it, merged', async () => {
    const [{ documents }]: { documents: number }[] = await dataSource.query('SELECT count(*)::int AS documents FROM documents');
    const [document]: { id: string }[] = await dataSource.query(`SELECT id FROM documents WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`, [TENANT]);
    const segments = async () => ((await previousEngine.requireClient().cat.segments({ index: previousEngine.index, format: 'json' })).body as unknown[]).length;

    // Registered as a build, with every document queued for it; no alias, so searches stay in PostgreSQL.
    expect(await previous.step()).toBe(documents);
    expect(await aliasTarget()).toBeUndefined();
    expect(await previousEngine.serving()).toBe(false);
    expect(await refreshInterval(previousEngine.index)).toBe('-1');
    expect(await dataSource.query('SELECT engine_index FROM search_index_state')).toEqual([{ engine_index: 'spec-layouts' }]);

    // A change meanwhile is queued for the build, and for the live queue, which nothing drains without an alias: dropped.
    await dataSource.query(`UPDATE documents SET title = 'meridian lantern' WHERE id = $1`, [document.id]);
    expect(await count('search_index_changes')).toBeGreaterThan(0);
    expect(await previous.step()).toBe(config.SEARCH_ENGINE_BATCH_SIZE);
    expect(await count('search_index_changes')).toBe(0);
    expect(await found(previousEngine, 'meridian')).toEqual([document.id]);

    await settle(previous);
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION - 1}`);
    expect(await previousEngine.serving()).toBe(true);
    expect(await refreshInterval(previousEngine.index)).toBeUndefined();
    expect(await segments()).toBe(1);
    expect(await count('search_index_builds')).toBe(0);
    expect(await found(previousEngine, 'meridian')).toEqual([document.id]);
  });

  it('starts from the previous layout serving, every document indexed', async () => {
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION - 1}`);
    expect(await count('search_index_changes')).toBe(0);
    expect(await previousEngine.serving()).toBe(true);
    expect(await currentEngine.serving()).toBe(false);
  });

  it('builds the new layout beside the serving one while writes go on, moves the alias once caught up and drops the old index', async () => {
    const [edited, translated, deleted]: { id: string }[] = await dataSource.query(
      // Without a Russian translation: the corpus gives some documents one, and the case adds it.
      `SELECT id FROM documents d WHERE tenant_id = $1 AND status = 'published'
         AND NOT EXISTS (SELECT 1 FROM document_translations t WHERE t.document_id = d.id AND t.language = 'ru') ORDER BY id LIMIT 3`,
      [TENANT],
    );

    // Registered, with every document queued for it; changes now queue for it as well.
    const [{ documents }]: { documents: number }[] = await dataSource.query('SELECT count(*)::int AS documents FROM documents');
    expect(await current.step()).toBe(documents);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION - 1}`, `spec-layouts-v${INDEX_VERSION}`]);
    expect(await dataSource.query('SELECT engine_index, backfill_queued FROM search_index_builds')).toEqual([
      { engine_index: `spec-layouts-v${INDEX_VERSION}`, backfill_queued: true },
    ]);
    expect((await queuedForBuild()).length).toBe(documents);
    // Its backlog is the build's progress; the build is not refreshed until it is about to serve.
    expect(await current.backlogs()).toEqual([
      { queue: 'live', pending: 0, oldestAgeSeconds: 0 },
      { queue: 'build', pending: documents, oldestAgeSeconds: expect.any(Number) },
    ]);
    expect(await refreshInterval(currentEngine.index)).toBe('-1');
    await dataSource.query(`UPDATE documents SET title = 'aurora lantern' WHERE id = $1`, [edited.id]);
    const [{ edits }]: { edits: number }[] = await dataSource.query('SELECT count(*)::int AS edits FROM search_index_build_changes WHERE document_id = $1', [
      edited.id,
    ]);
    expect(edits).toBeGreaterThan(1);

    // A first batch written into it, and made a segment of its own by a refresh (as the buffer's flush would).
    const queuedRows = await count('search_index_build_changes');
    expect(await current.step()).toBeGreaterThan(0);
    expect(await count('search_index_build_changes')).toBe(queuedRows - config.SEARCH_ENGINE_BATCH_SIZE);
    await currentEngine.requireClient().indices.refresh({ index: currentEngine.index });

    // The previous layout still serves and follows the writes; this replica answers from PostgreSQL
    // meanwhile. That replica's first round on its serving index (SearchIndexerService.settle) leaves the build's queue alone.
    await settle(previous);
    expect(await count('search_index_build_changes')).toBe(queuedRows - config.SEARCH_ENGINE_BATCH_SIZE);
    expect(await found(previousEngine, 'aurora')).toEqual([edited.id]);
    expect(await found(currentEngine, 'aurora')).toEqual([edited.id]);
    expect(await currentEngine.serving()).toBe(false);

    await dataSource.query(
      `INSERT INTO document_translations (tenant_id, document_id, language, search_config, title, summary, body, created_by, updated_by)
       VALUES ($1, $2, 'ru', 'russian', 'дирижабли', '', 'старые дирижабли над гаванью', $3, $3)`,
      [TENANT, translated.id, EDITOR.userId],
    );
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [deleted.id]);
    const [created]: { id: string }[] = await dataSource.query(
      `INSERT INTO documents (tenant_id, owner_id, title, summary, body, type, status, language, search_config, published_at)
       SELECT tenant_id, owner_id, 'zeppelin harbour', summary, body, type, status, language, search_config, published_at FROM documents WHERE id = $1
       RETURNING id`,
      [edited.id],
    );

    expect(await current.step()).toBeGreaterThan(0);
    await currentEngine.requireClient().indices.refresh({ index: currentEngine.index });
    const segments = async () => ((await currentEngine.requireClient().cat.segments({ index: currentEngine.index, format: 'json' })).body as unknown[]).length;
    expect(await segments()).toBeGreaterThanOrEqual(2);

    await settle(current);
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION}`);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION}`]);
    // Merged into one segment before it served; the changes drained after the move add one more.
    expect(await segments()).toBeLessThanOrEqual(2);
    expect(await count('search_index_builds')).toBe(0);
    expect(await count('search_index_build_changes')).toBe(0);
    expect(await currentEngine.serving()).toBe(true);
    // Serving, it is refreshed at the engine's default interval again.
    expect(await refreshInterval(currentEngine.index)).toBeUndefined();
    // The previous replica follows the move within the time it trusts what it read of the alias.
    await eventually('the previous replica searching in PostgreSQL', async () => !(await previousEngine.serving()), 5_000);

    expect(await found(currentEngine, 'aurora')).toEqual([edited.id]);
    expect(await found(currentEngine, 'дирижабль')).toEqual([translated.id]);
    expect(await found(currentEngine, 'zeppelin')).toEqual([created.id]);
    const [{ title }]: { title: string }[] = await dataSource.query('SELECT title FROM documents WHERE id = $1', [translated.id]);
    // Every page: the document is picked by id, and its title's words may be common enough to fill the first.
    const byTitle = await allPages(serviceWith(currentEngine), EDITOR, { query: `"${title}"` });
    expect(byTitle.hits.map((hit) => hit.id)).toContain(translated.id);
    const [{ remains }]: { remains: number }[] = await dataSource.query('SELECT count(*)::int AS remains FROM documents WHERE id = $1', [deleted.id]);
    expect(remains).toBe(0);
    expect((await currentEngine.requireClient().get({ index: config.SEARCH_ENGINE_INDEX, id: deleted.id }, { ignore: [404] })).body.found).toBe(false);
  });

  it('answers through the new layout exactly what the unbounded PostgreSQL search does', async () => {
    const service = new SearchService(dataSource, config, cache, currentEngine, passThroughDocumentCache, new TagsService(dataSource), new AuthorsService(dataSource));
    for (const query of ['river', 'ночи', 'урман OR forest -harbor']) {
      const reference = await referenceSearch(dataSource, READER, query, {}, SearchSort.RELEVANCE);
      const { first, hits } = await allPages(service, READER, { query, first: 9 });
      expect(hits.map((hit) => hit.id).sort()).toEqual(reference.hits.map((hit) => hit.id).sort());
      expect(first.totalCount).toBe(reference.counts.total);
    }
  });

  it('leaves indexing to the newer replicas on a replica of the previous layout: it neither drains nor builds', async () => {
    const [document]: { id: string }[] = await dataSource.query(`SELECT id FROM documents WHERE tenant_id = $1 LIMIT 1`, [TENANT]);
    await dataSource.query(`UPDATE documents SET title = 'quasar beacon' WHERE id = $1`, [document.id]);
    const queued = await count('search_index_changes');
    expect(queued).toBeGreaterThan(0);

    expect(await previous.step()).toBe(0);
    expect(await count('search_index_changes')).toBe(queued);
    expect(await count('search_index_builds')).toBe(0);
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION}`);

    await settle(current);
    expect(await count('search_index_changes')).toBe(0);
    expect(await found(currentEngine, 'quasar')).toEqual([document.id]);
  });

  it('keeps serving and indexing its layout while the next release builds its own, then stands by', async () => {
    const nextEngine = new (releaseAhead(1))(config);
    const next = new SearchIndexerService(dataSource, config, nextEngine, cache);
    expect(await next.step()).toBeGreaterThan(0);
    expect(await count('search_index_builds')).toBe(1);

    const [document]: { id: string }[] = await dataSource.query(`SELECT id FROM documents WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`, [TENANT]);
    await dataSource.query(`UPDATE documents SET title = 'nebula compass' WHERE id = $1`, [document.id]);
    await settle(current);
    expect(await count('search_index_changes')).toBe(0);
    expect(await found(currentEngine, 'nebula')).toEqual([document.id]);
    expect(await nextEngine.serving()).toBe(false);

    await settle(next);
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION + 1}`);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION + 1}`]);
    expect(await found(nextEngine, 'nebula')).toEqual([document.id]);

    await dataSource.query(`UPDATE documents SET title = 'pulsar lattice' WHERE id = $1`, [document.id]);
    expect(await current.step()).toBe(0);
    expect(await count('search_index_changes')).toBeGreaterThan(0);
    await settle(next);
    expect(await count('search_index_changes')).toBe(0);
    expect(await found(nextEngine, 'pulsar')).toEqual([document.id]);
  });

  it('drops a build of an older release when a newer release starts its own, and that older release stands by', async () => {
    const olderEngine = new (releaseAhead(2))(config);
    const newerEngine = new (releaseAhead(3))(config);
    const older = new SearchIndexerService(dataSource, config, olderEngine, cache);
    const newer = new SearchIndexerService(dataSource, config, newerEngine, cache);
    expect(await older.step()).toBeGreaterThan(0);
    expect(await older.step()).toBeGreaterThan(0);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION + 1}`, `spec-layouts-v${INDEX_VERSION + 2}`]);

    expect(await newer.step()).toBeGreaterThan(0);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION + 1}`, `spec-layouts-v${INDEX_VERSION + 3}`]);
    expect(await dataSource.query('SELECT engine_index FROM search_index_builds')).toEqual([{ engine_index: `spec-layouts-v${INDEX_VERSION + 3}` }]);
    const [{ documents }]: { documents: number }[] = await dataSource.query('SELECT count(*)::int AS documents FROM documents');
    expect((await queuedForBuild()).length).toBe(documents);

    expect(await older.step()).toBe(0);
    expect(await dataSource.query('SELECT engine_index FROM search_index_builds')).toEqual([{ engine_index: `spec-layouts-v${INDEX_VERSION + 3}` }]);
    await settle(newer);
    expect(await aliasTarget()).toBe(`spec-layouts-v${INDEX_VERSION + 3}`);
    expect(await indexes()).toEqual([`spec-layouts-v${INDEX_VERSION + 3}`]);
    expect(await found(newerEngine, 'pulsar')).toHaveLength(1);
  });

  it('queues every document again for an index attached again after a detach, which serves meanwhile, and merges it once written', async () => {
    const engine = new (releaseAhead(3))(config);
    const segments = async () => ((await engine.requireClient().cat.segments({ index: engine.index, format: 'json' })).body as unknown[]).length;
    expect(await detachSearchEngine(dataSource)).toEqual(['spec-layouts']);
    const attachedAgain = new SearchIndexerService(dataSource, config, engine, cache);
    const [{ documents }]: { documents: number }[] = await dataSource.query('SELECT count(*)::int AS documents FROM documents');

    // Every document queued, the first batch written through the alias (one segment a batch).
    expect(await attachedAgain.step()).toBe(config.SEARCH_ENGINE_BATCH_SIZE);
    expect(await count('search_index_changes')).toBe(documents - config.SEARCH_ENGINE_BATCH_SIZE);
    expect(await attachedAgain.step()).toBe(config.SEARCH_ENGINE_BATCH_SIZE);
    expect(await engine.serving()).toBe(true);
    expect(await segments()).toBeGreaterThan(1);

    await settle(attachedAgain);
    expect(await count('search_index_changes')).toBe(0);
    expect(await segments()).toBe(1);
    expect(await found(engine, 'pulsar')).toHaveLength(1);
  });

  it('builds the index again when it was detached and dropped while the replica ran, with the changes made meanwhile', async () => {
    const engine = new (releaseAhead(3))(config);
    const running = new SearchIndexerService(dataSource, config, engine, cache);
    await settle(running);
    expect(await detachSearchEngine(dataSource)).toEqual(['spec-layouts']);
    await engine.requireClient().indices.delete({ index: engine.index });

    // Attached again, registered and backfilled; a first batch written.
    expect(await running.step()).toBeGreaterThan(0);
    expect(await dataSource.query('SELECT engine_index FROM search_index_state')).toEqual([{ engine_index: 'spec-layouts' }]);
    expect(await running.step()).toBe(config.SEARCH_ENGINE_BATCH_SIZE);
    // A document already written is changed: only the triggers, which queue while attached, bring the change.
    const [document]: { id: string }[] = await dataSource.query(
      `SELECT id FROM documents d WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM search_index_build_changes c WHERE c.document_id = d.id) LIMIT 1`,
      [TENANT],
    );
    await dataSource.query(`UPDATE documents SET title = 'halcyon beacon' WHERE id = $1`, [document.id]);
    const [{ queued }]: { queued: number }[] = await dataSource.query('SELECT count(*)::int AS queued FROM search_index_build_changes WHERE document_id = $1', [
      document.id,
    ]);
    expect(queued).toBeGreaterThan(0);

    await settle(running);
    expect(await aliasTarget()).toBe(engine.index);
    expect(await engine.serving()).toBe(true);
    expect(await found(engine, 'halcyon')).toEqual([document.id]);
  });
});
