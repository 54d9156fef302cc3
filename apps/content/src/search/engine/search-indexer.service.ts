import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { affectedRows } from '@multipult/database';
import { equalJitterDelay } from '@multipult/events';
import { SearchCacheService } from '../../cache/search-cache.service';
import type { ContentConfig } from '../../config';
import { SearchEngine, dropBuildRegistrations, indexVersion } from './search-engine';
import { IndexedDocumentRow, engineDocument } from './search-index.mapping';
import { QueueBacklog, indexedDocuments, indexingFailures, registerIndexer, searchIndexMetrics, unregisterIndexer } from './search-index-metrics';

const RETRY_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/**
 * A change queue the triggers fill and the one advisory lock its drainer holds: one drainer at a
 * time across replicas, so the engine sees a document's states in commit order.
 */
interface ChangeQueue {
  table: 'search_index_changes' | 'search_index_build_changes';
  lock: string;
}
/** Changes for the index behind the alias. */
const LIVE_QUEUE: ChangeQueue = { table: 'search_index_changes', lock: "hashtext('content.search_index_changes')" };
/** Changes for the next version's index while it is built. */
const BUILD_QUEUE: ChangeQueue = { table: 'search_index_build_changes', lock: "hashtext('content.search_index_build_changes')" };

/** Both queues' backlogs: a count (the queues are near empty but during a backfill) and the oldest row's age, by the id index. */
const BACKLOG_SQL = (
  [
    ['live', LIVE_QUEUE],
    ['build', BUILD_QUEUE],
  ] as const
)
  .map(
    ([queue, { table }]) => `SELECT '${queue}' AS queue, count(*)::int AS pending,
       coalesce(extract(epoch FROM now() - (SELECT queued_at FROM ${table} ORDER BY id LIMIT 1)), 0)::float8 AS oldest_age_seconds
     FROM ${table}`,
  )
  .join(' UNION ALL ');

/** The documents' current state with their originals and translations as variants. */
const DOCUMENTS_SQL = `
  SELECT d.id, d.tenant_id, d.owner_id, d.status, d.type, coalesce(d.published_at, d.created_at) AS sort_at, d.tag_ids, d.author_ids,
         json_build_array(json_build_object('translation_id', NULL, 'language', d.language, 'configuration', d.search_config::text,
                                            'title', d.title, 'tags', d.tag_names, 'summary', d.summary, 'body', d.body))::jsonb
           || coalesce((SELECT jsonb_agg(jsonb_build_object('translation_id', t.id, 'language', t.language, 'configuration', t.search_config::text,
                                                             'title', t.title, 'tags', '', 'summary', t.summary, 'body', t.body))
                        FROM document_translations t WHERE t.document_id = d.id AND t.tenant_id = d.tenant_id), '[]'::jsonb) AS variants
  FROM documents d WHERE d.id = ANY($1::uuid[])`;

/**
 * Keeps the engine's index current off the write path: drains the change queue that triggers fill
 * in every writing transaction (search_index_changes), oldest first, reads each changed document's
 * current state and writes it (or its removal) in one bulk request, then drops the tenants' cached
 * results. The queue rows go only when the engine has taken the batch, so nothing is lost while it
 * is down; it is retried with backoff.
 *
 * When there is no index behind the alias yet, or one of an older layout version than this code's
 * (INDEX_VERSION), it builds this version's index (beside the old one, which keeps serving while
 * replicas still on the old code keep it current): every document is queued for the build, changes
 * made meanwhile are queued for it too, and when the build has caught up its segments are merged,
 * the alias moves (or is created) in one step and the old index is dropped. Until then this replica
 * searches in PostgreSQL (SearchEngine.serving): a search never reads a half-filled index. A
 * replica older than the index behind the alias, or than a build under way, leaves indexing to
 * newer ones.
 */
@Injectable()
export class SearchIndexerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SearchIndexerService.name);
  private running?: Promise<void>;
  private stopping = false;
  private interruptSleep?: () => void;
  private attached = false;
  private settled = false;
  /** This replica queued every document for the index behind the alias (attached again after a detach) and has yet to merge it. */
  private backfilling = false;
  private standingBy?: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ContentConfig,
    private readonly engine: SearchEngine,
    private readonly cache: SearchCacheService,
  ) {
    // Exported from the start, with or without an engine (the gauges have series while an indexer runs).
    indexedDocuments();
    indexingFailures();
    searchIndexMetrics();
  }

  /**
   * With an engine: refuses a second index on the one queue (a configuration error), then starts
   * the loop, which creates and attaches the index as soon as the engine answers. Content starts
   * and serves everything else while the engine is down. Without an engine nothing runs: the
   * queue belongs to the replicas that have one.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.engine.enabled) return;
    const [other]: { engine_index: string }[] = await this.dataSource.query('SELECT engine_index FROM search_index_state WHERE engine_index <> $1', [
      this.engine.alias,
    ]);
    // One queue feeds one index: a second would see only the batches it happened to drain.
    if (other) throw new Error(`the search index ${other.engine_index} is attached, not ${this.engine.alias}: detach it first (cli.js search-engine-detach)`);
    registerIndexer(this, { backlogs: () => this.backlogs(), serving: () => this.engine.serving() });
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    unregisterIndexer(this);
    this.stopping = true;
    this.interruptSleep?.();
    await this.running;
  }

  /** What is queued for the engine and not yet written, per queue (the backlog gauges). */
  async backlogs(): Promise<QueueBacklog[]> {
    const rows: { queue: QueueBacklog['queue']; pending: number; oldest_age_seconds: number }[] = await this.dataSource.query(BACKLOG_SQL);
    return rows.map((row) => ({ queue: row.queue, pending: row.pending, oldestAgeSeconds: row.oldest_age_seconds }));
  }

  /**
   * One round of indexing: keeps the index behind the alias current when it is this version's,
   * builds this version's when there is none or it is older, stands by when it is newer; resolves
   * with how many documents it wrote (or queued for a build), 0 when there was nothing to do.
   */
  async step(): Promise<number> {
    const current = await this.engine.currentIndex();
    if (current === undefined) {
      // The first index: built like a next layout's, with nothing serving beside it. Attached every
      // round (a no-op once attached): the index may have been detached and dropped while this
      // replica ran, and the triggers queue changes only while it is attached.
      await this.attach({ backfill: false });
      return this.build(undefined);
    }
    const version = indexVersion(current);
    if (version > this.engine.version) return this.standBy(current);
    if (!this.attached) await this.attach({ backfill: true });
    if (version < this.engine.version) return this.build(current);
    if (!this.settled) await this.settle();
    const drained = await this.drainOnce();
    if (drained === 0 && this.backfilling) await this.mergeBackfill();
    return drained;
  }

  /**
   * Merges the index once the backfill this replica queued is written, as a build is before it
   * serves. It serves meanwhile (with what it held when it was detached); this replica's next batch
   * waits for the merge (other replicas drain).
   */
  private async mergeBackfill(): Promise<void> {
    const segments = await this.engine.mergeSegments();
    this.backfilling = false;
    this.logger.log({ index: this.engine.index, segments }, 'Merged the search index after its backfill');
  }

  /**
   * Attaches the alias (changes queue from then on). With `backfill`, an index attached again after
   * a detach gets every document queued; a first index is built instead (its build queues them).
   */
  private async attach({ backfill }: { backfill: boolean }): Promise<void> {
    const queued = await this.dataSource.transaction(async (manager) => {
      const attached: unknown[] = await manager.query(
        'INSERT INTO search_index_state (engine_index) VALUES ($1) ON CONFLICT DO NOTHING RETURNING engine_index',
        [this.engine.alias],
      );
      if (!backfill || !attached.length) return 0;
      const [{ count }]: { count: number }[] = await manager.query(
        `WITH queued AS (INSERT INTO search_index_changes (document_id, tenant_id) SELECT id, tenant_id FROM documents RETURNING 1)
         SELECT count(*)::int AS count FROM queued`,
      );
      return count;
    });
    this.attached = true;
    if (!queued) return;
    this.backfilling = true;
    this.logger.log({ documents: queued, index: this.engine.alias }, 'Queued every document for the search index');
  }

  /**
   * Once per replica, when its version's index serves: the index gets today's serving settings (it
   * may predate the merge policy, or a mover may have stopped before readyToServe), and a build of this version left registered after its index took the alias (the
   * move succeeded, the transaction did not commit), which would keep queueing changes for nobody,
   * is dropped.
   */
  private async settle(): Promise<void> {
    await this.engine.applyServingSettings();
    await this.dataSource.transaction(async (manager) => {
      const dropped = await affectedRows(manager, 'DELETE FROM search_index_builds WHERE engine_index = $1', [this.engine.index]);
      if (dropped) await manager.query('DELETE FROM search_index_build_changes');
    });
    this.settled = true;
  }

  private standBy(newer: string): number {
    if (this.standingBy !== newer) {
      this.logger.warn({ index: this.engine.index, newer }, 'A newer layout of the search index serves or is being built: this replica leaves indexing to newer replicas and searches in PostgreSQL');
      this.standingBy = newer;
    }
    return 0;
  }

  /**
   * One round of building this version's index beside `current` (none: the first index): started
   * and backfill queued, fed a batch, or finished.
   */
  private async build(current: string | undefined): Promise<number> {
    const builds: { engine_index: string; backfill_queued: boolean }[] = await this.dataSource.query(
      'SELECT engine_index, backfill_queued FROM search_index_builds',
    );
    const newer = builds.find((build) => indexVersion(build.engine_index) > this.engine.version);
    if (newer) return this.standBy(newer.engine_index);
    const ours = builds.find((build) => build.engine_index === this.engine.index);
    if (!ours) await this.startBuild(current);
    if (!ours?.backfill_queued) return this.queueBackfill();
    if (current === undefined) await this.dropRedundantLiveChanges();
    const drained = await this.drainOnce(BUILD_QUEUE);
    if (drained === 0) {
      // Before it serves and outside the drain locks: changes made meanwhile queue for the move to
      // drain. Refreshed first, so the merge takes what was written since the build's last segment.
      await this.engine.readyToServe();
      const segments = await this.engine.mergeSegments();
      this.logger.log({ index: this.engine.index, segments }, 'Merged the new search index before it serves');
      await this.finishBuild();
    }
    return drained;
  }

  /**
   * While the first index is built nothing drains the live queue (there is no alias to write
   * through), and nothing in it is needed: what was queued before the build was registered is in
   * its backfill, what since is in its queue too. Under the live queue's lock and only while the
   * build is registered: once it took the alias (finishBuild, under the same lock) the live queue
   * holds the changes made since.
   */
  private async dropRedundantLiveChanges(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${LIVE_QUEUE.lock})`);
      const [building]: unknown[] = await manager.query('SELECT 1 FROM search_index_builds WHERE engine_index = $1 AND backfill_queued', [this.engine.index]);
      if (building) await manager.query(`DELETE FROM ${LIVE_QUEUE.table}`);
    });
  }

  /**
   * Creates this version's index empty (dropping what an abandoned attempt left) and registers the
   * build. The registering transaction waits for the writers in flight, so every change committed
   * after it is queued for the build and every one before it is in what queueBackfill reads.
   */
  private async startBuild(current: string | undefined): Promise<void> {
    const started = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${BUILD_QUEUE.lock})`);
      const builds: { engine_index: string }[] = await manager.query('SELECT engine_index FROM search_index_builds');
      // Another replica of this version started it, or a newer one took over, meanwhile.
      if (builds.some((build) => indexVersion(build.engine_index) >= this.engine.version)) return false;
      const abandoned = [this.engine.index, ...builds.map((build) => build.engine_index)];
      await this.engine.requireClient().indices.delete({ index: abandoned.join(','), ignore_unavailable: true });
      await this.engine.createIndex();
      await manager.query('LOCK TABLE document_search_entries IN SHARE MODE');
      await dropBuildRegistrations(manager);
      await manager.query('INSERT INTO search_index_builds (engine_index) VALUES ($1)', [this.engine.index]);
      return true;
    });
    if (!started) return;
    if (current) this.logger.log({ index: this.engine.index, serving: current }, 'Building the next layout of the search index beside the one serving');
    else this.logger.log({ index: this.engine.index }, 'Building the first search index; searches run in PostgreSQL until it serves');
  }

  /** Queues every document for the build, once, after the build is registered; how many it queued. */
  private async queueBackfill(): Promise<number> {
    const queued = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${BUILD_QUEUE.lock})`);
      const [build]: unknown[] = await manager.query('SELECT 1 FROM search_index_builds WHERE engine_index = $1 AND NOT backfill_queued FOR UPDATE', [
        this.engine.index,
      ]);
      if (!build) return 0;
      const [{ count }]: { count: number }[] = await manager.query(
        `WITH queued AS (INSERT INTO search_index_build_changes (document_id, tenant_id) SELECT id, tenant_id FROM documents ORDER BY id RETURNING 1)
         SELECT count(*)::int AS count FROM queued`,
      );
      await manager.query('UPDATE search_index_builds SET backfill_queued = true WHERE engine_index = $1', [this.engine.index]);
      return count;
    });
    if (queued) this.logger.log({ documents: queued, index: this.engine.index }, 'Queued every document for the new search index');
    return queued;
  }

  /**
   * Moves the alias to the built index once its queue is empty. It holds both drain locks, so no
   * replica writes either index meanwhile; changes committed after its last batch are in the live
   * queue too, which is drained into the new index after the move.
   */
  private async finishBuild(): Promise<void> {
    const previous = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${LIVE_QUEUE.lock}), pg_advisory_xact_lock(${BUILD_QUEUE.lock})`);
      const [build]: unknown[] = await manager.query('SELECT 1 FROM search_index_builds WHERE engine_index = $1 AND backfill_queued', [this.engine.index]);
      if (!build) return null;
      while ((await this.drainBatch(manager, BUILD_QUEUE, this.engine.index)).documents > 0);
      await this.engine.requireClient().indices.refresh({ index: this.engine.index });
      await dropBuildRegistrations(manager);
      const serving = await this.engine.currentIndex();
      await this.engine.moveAlias(serving);
      return serving ?? '';
    });
    if (previous === null) return;
    this.logger.log({ index: this.engine.index, previous, alias: this.engine.alias }, 'The search index of the new layout serves');
    try {
      if (previous) await this.engine.requireClient().indices.delete({ index: previous, ignore_unavailable: true });
    } catch (error) {
      this.logger.warn({ err: error, index: previous }, 'Could not drop the search index of the previous layout; drop it by hand');
    }
  }

  /**
   * Writes one batch of queued changes to the engine; resolves with how many documents it took
   * (0 when the queue was empty or another replica is draining it).
   */
  async drainOnce(queue: ChangeQueue = LIVE_QUEUE): Promise<number> {
    const [{ queued }]: { queued: boolean }[] = await this.dataSource.query(`SELECT EXISTS (SELECT 1 FROM ${queue.table}) AS queued`);
    if (!queued) return 0;
    const live = queue === LIVE_QUEUE;
    const written = await this.dataSource.transaction(async (manager) => {
      const [{ locked }]: { locked: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(${queue.lock}) AS locked`);
      if (!locked) return null;
      // The live queue is written through the alias, a build straight into its index.
      return this.drainBatch(manager, queue, live ? this.engine.alias : this.engine.index);
    });
    if (!written) return 0;
    // A build is not searched yet: nothing cached comes from it.
    if (live) await Promise.all(written.tenants.map((tenantId) => this.cache.invalidateTenant(tenantId)));
    return written.documents;
  }

  /** Claims the oldest batch of a queue and writes it to `index`, in the caller's transaction. */
  private async drainBatch(manager: EntityManager, queue: ChangeQueue, index: string): Promise<{ documents: number; tenants: string[] }> {
    const claimed: { document_id: string; tenant_id: string }[] = await manager.query(
      `WITH claimed AS (
         DELETE FROM ${queue.table} WHERE id IN (SELECT id FROM ${queue.table} ORDER BY id LIMIT $1) RETURNING document_id, tenant_id
       )
       SELECT document_id, tenant_id FROM claimed`,
      [this.config.SEARCH_ENGINE_BATCH_SIZE],
    );
    if (!claimed.length) return { documents: 0, tenants: [] };
    const documentIds = [...new Set(claimed.map((change) => change.document_id))];
    const rows: IndexedDocumentRow[] = await manager.query(DOCUMENTS_SQL, [documentIds]);
    await this.write(index, documentIds, rows, queue === LIVE_QUEUE);
    return { documents: documentIds.length, tenants: [...new Set(claimed.map((change) => change.tenant_id))] };
  }

  /**
   * One bulk request: the present documents indexed, the deleted ones removed; searchable when it
   * returns if `refresh`. Writes through the alias require it, so a missing alias fails rather than
   * creating an index of that name.
   */
  private async write(index: string, documentIds: string[], rows: IndexedDocumentRow[], refresh: boolean): Promise<void> {
    const present = new Set(rows.map((row) => row.id));
    const deleted = documentIds.filter((id) => !present.has(id));
    const body = [
      ...rows.flatMap((row) => [{ index: { _index: index, _id: row.id } }, engineDocument(row)]),
      ...deleted.map((id) => ({ delete: { _index: index, _id: id } })),
    ];
    const client = this.engine.requireClient();
    const response = await client.bulk({ body, require_alias: index === this.engine.alias });
    const items = response.body.items as Record<string, { status: number; error?: { type: string; reason?: string } }>[];
    // A delete of a document the index never had is what was asked for.
    const failures = items.map((item) => Object.values(item)[0]).filter((result) => result.error && result.status !== 404);
    if (failures.length) {
      throw new Error(`the search engine refused ${failures.length} of ${items.length} writes: ${failures[0].error?.type}: ${failures[0].error?.reason}`);
    }
    // Searchable now rather than at the next scheduled refresh (up to refresh_interval, 1 s, which
    // `refresh: wait_for` would wait per batch): the caches are dropped only after this.
    if (refresh) await client.indices.refresh({ index });
    indexedDocuments().inc({ operation: 'index' }, rows.length);
    indexedDocuments().inc({ operation: 'delete' }, deleted.length);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let drained = 0;
      try {
        drained = await this.step();
        failures = 0;
      } catch (error) {
        failures += 1;
        indexingFailures().inc();
        this.logger.warn({ err: error, attempt: failures }, 'Search indexing failed (attaching, building or writing a batch); changes stay queued and it is retried');
      }
      // A full batch means more are waiting: take the next at once.
      if (failures === 0 && drained >= this.config.SEARCH_ENGINE_BATCH_SIZE) continue;
      await this.sleep(failures ? equalJitterDelay(failures, RETRY_BACKOFF) : this.config.SEARCH_ENGINE_POLL_INTERVAL_MS);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interruptSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
