import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { equalJitterDelay } from '@multipult/events';
import { counter } from '@multipult/observability';
import { SearchCacheService } from '../../cache/search-cache.service';
import type { ContentConfig } from '../../config';
import { SearchEngine } from './search-engine';
import { IndexedDocumentRow, engineDocument } from './search-index.mapping';

const indexedDocuments = () =>
  counter({
    name: 'content_search_index_documents_total',
    help: 'Documents the search indexer wrote to the engine, by operation (index, delete)',
    labelNames: ['operation'] as const,
  });
const indexingFailures = () =>
  counter({ name: 'content_search_index_failures_total', help: 'Indexer batches the engine refused or did not answer', labelNames: [] as const });

const RETRY_BACKOFF = { initialMs: 500, maxMs: 30_000 };
/** One drainer at a time across replicas: the engine then sees a document's states in commit order. */
const DRAIN_LOCK = "hashtext('content.search_index_changes')";

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
 */
@Injectable()
export class SearchIndexerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SearchIndexerService.name);
  private running?: Promise<void>;
  private stopping = false;
  private interruptSleep?: () => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ContentConfig,
    private readonly engine: SearchEngine,
    private readonly cache: SearchCacheService,
  ) {
    indexedDocuments();
    indexingFailures();
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
    this.running = this.run();
  }

  /**
   * Creates the index if needed and attaches it (changes queue from then on); a new index, or one
   * attached again after a detach, gets every document queued.
   */
  private async attach(): Promise<void> {
    const created = await this.engine.ensureIndex();
    const queued = await this.dataSource.transaction(async (manager) => {
      const attached: unknown[] = await manager.query(
        'INSERT INTO search_index_state (engine_index) VALUES ($1) ON CONFLICT DO NOTHING RETURNING engine_index',
        [this.engine.alias],
      );
      if (!created && !attached.length) return 0;
      const [{ count }]: { count: number }[] = await manager.query(
        `WITH queued AS (INSERT INTO search_index_changes (document_id, tenant_id) SELECT id, tenant_id FROM documents RETURNING 1)
         SELECT count(*)::int AS count FROM queued`,
      );
      return count;
    });
    if (queued) this.logger.log({ documents: queued, index: this.engine.alias }, 'Queued every document for the search index');
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.interruptSleep?.();
    await this.running;
  }

  /**
   * Writes one batch of queued changes to the engine; resolves with how many documents it took
   * (0 when the queue was empty or another replica is draining it).
   */
  async drainOnce(): Promise<number> {
    const [{ queued }]: { queued: boolean }[] = await this.dataSource.query('SELECT EXISTS (SELECT 1 FROM search_index_changes) AS queued');
    if (!queued) return 0;
    const written = await this.dataSource.transaction(async (manager) => {
      const [{ locked }]: { locked: boolean }[] = await manager.query(`SELECT pg_try_advisory_xact_lock(${DRAIN_LOCK}) AS locked`);
      if (!locked) return null;
      const claimed: { document_id: string; tenant_id: string }[] = await manager.query(
        `WITH claimed AS (
           DELETE FROM search_index_changes WHERE id IN (SELECT id FROM search_index_changes ORDER BY id LIMIT $1) RETURNING document_id, tenant_id
         )
         SELECT document_id, tenant_id FROM claimed`,
        [this.config.SEARCH_ENGINE_BATCH_SIZE],
      );
      if (!claimed.length) return { documents: 0, tenants: [] };
      const documentIds = [...new Set(claimed.map((change) => change.document_id))];
      const rows: IndexedDocumentRow[] = await manager.query(DOCUMENTS_SQL, [documentIds]);
      await this.write(documentIds, rows);
      return { documents: documentIds.length, tenants: [...new Set(claimed.map((change) => change.tenant_id))] };
    });
    if (!written) return 0;
    await Promise.all(written.tenants.map((tenantId) => this.cache.invalidateTenant(tenantId)));
    return written.documents;
  }

  /** One bulk request: the present documents indexed, the deleted ones removed; searchable when it returns. */
  private async write(documentIds: string[], rows: IndexedDocumentRow[]): Promise<void> {
    const present = new Set(rows.map((row) => row.id));
    const deleted = documentIds.filter((id) => !present.has(id));
    const index = this.engine.alias;
    const body = [
      ...rows.flatMap((row) => [{ index: { _index: index, _id: row.id } }, engineDocument(row)]),
      ...deleted.map((id) => ({ delete: { _index: index, _id: id } })),
    ];
    const client = this.engine.requireClient();
    const response = await client.bulk({ body });
    const items = response.body.items as Record<string, { status: number; error?: { type: string; reason?: string } }>[];
    // A delete of a document the index never had is what was asked for.
    const failures = items.map((item) => Object.values(item)[0]).filter((result) => result.error && result.status !== 404);
    if (failures.length) {
      throw new Error(`the search engine refused ${failures.length} of ${items.length} writes: ${failures[0].error?.type}: ${failures[0].error?.reason}`);
    }
    // Searchable now rather than at the next scheduled refresh (up to refresh_interval, 1 s, which
    // `refresh: wait_for` would wait per batch): the caches are dropped only after this.
    await client.indices.refresh({ index });
    indexedDocuments().inc({ operation: 'index' }, rows.length);
    indexedDocuments().inc({ operation: 'delete' }, deleted.length);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let attached = false;
    while (!this.stopping) {
      let drained = 0;
      try {
        if (!attached) {
          await this.attach();
          attached = true;
        }
        drained = await this.drainOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        indexingFailures().inc();
        this.logger.warn({ err: error, attempt: failures }, 'Search indexing failed (attaching the index or writing a batch); changes stay queued and it is retried');
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
