import { Injectable, Logger } from '@nestjs/common';
import type * as OpenSearch from '@opensearch-project/opensearch';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import type { ContentConfig } from '../../config';
import { SEARCH_INDEX_MERGE_POLICY, searchIndexBody } from './search-index.mapping';

/**
 * The version of the index layout (searchIndexBody, engineDocument, engineSearchBody) this code
 * writes and queries. Raising it makes the indexer build the new version's index beside the one
 * behind the alias and move the alias when it has caught up (SearchIndexerService).
 */
export const INDEX_VERSION = 4;

/** The merge policy's largest merged segment (index.merge.policy.max_merged_segment's default). */
const MAX_MERGED_SEGMENT_BYTES = 5 * 1024 ** 3;
/** A merge rewrites the whole index: minutes for millions of documents. */
const MERGE_TIMEOUT_MS = 60 * 60_000;

/**
 * A build is not searched until it serves, so it is not refreshed while it is written (the
 * engines' bulk-load advice: each refresh makes a small segment for the merges to rewrite);
 * SERVING_SETTINGS put the default back before it is merged and takes the alias.
 */
const BUILD_SETTINGS = { 'index.refresh_interval': '-1' };
/** A serving index's settings: today's merge policy, refreshed at the engine's default interval (`null`). */
const SERVING_SETTINGS = { ...SEARCH_INDEX_MERGE_POLICY, 'index.refresh_interval': null };

/** How long a replica trusts what it last read of the alias: how soon it follows a move. */
const ALIAS_TARGET_TTL_MS = 2_000;

/** The layout version of a versioned index (`<alias>-v<n>`); 0 for any other name. */
export function indexVersion(index: string): number {
  const match = /-v(\d+)$/.exec(index);
  return match ? Number(match[1]) : 0;
}

/**
 * The external search engine (OpenSearch) when SEARCH_ENGINE_URL is set: its client, the alias
 * searches and index writes go through, and the versioned indexes behind it.
 */
@Injectable()
export class SearchEngine {
  private readonly logger = new Logger(SearchEngine.name);
  readonly client?: OpenSearch.Client;
  readonly alias: string;
  private aliasTarget?: { read: Promise<string | undefined>; at: number };

  /** The layout version this replica speaks (tests play older and newer replicas by overriding it). */
  readonly version: number = INDEX_VERSION;

  constructor(@InjectConfig() config: ContentConfig) {
    this.alias = config.SEARCH_ENGINE_INDEX;
    if (config.SEARCH_ENGINE_URL) {
      // Required only with an engine: the client took 0.14 s of a start-up without one.
      const { Client } = require('@opensearch-project/opensearch') as typeof OpenSearch;
      this.client = new Client({ node: config.SEARCH_ENGINE_URL, requestTimeout: 10_000, maxRetries: 1 });
    }
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** This replica's version's index. */
  get index(): string {
    return `${this.alias}-v${this.version}`;
  }

  /**
   * The index behind the alias, undefined when there is no alias yet. Every read is remembered for
   * `serving`, so the indexer's rounds keep its replica's searches current without reads of their own.
   */
  async currentIndex(): Promise<string | undefined> {
    const response = await this.requireClient().indices.getAlias({ name: this.alias }, { ignore: [404] });
    const index = response.statusCode === 404 ? undefined : Object.keys(response.body as Record<string, unknown>)[0];
    this.aliasTarget = { read: Promise.resolve(index), at: Date.now() };
    return index;
  }

  /**
   * Whether the alias leads to this replica's version, so its queries fit the index: false while
   * the next version is built (searches then run in PostgreSQL) and on a replica older than the
   * index. Read at most every ALIAS_TARGET_TTL_MS; an unreachable engine rejects.
   */
  async serving(): Promise<boolean> {
    const now = Date.now();
    if (!this.aliasTarget || now - this.aliasTarget.at > ALIAS_TARGET_TTL_MS) {
      const read = this.currentIndex();
      this.aliasTarget = { read, at: now };
      // A failed read is not remembered: the next search asks again.
      read.catch(() => {
        if (this.aliasTarget?.read === read) this.aliasTarget = undefined;
      });
    }
    return (await this.aliasTarget.read) === this.index;
  }

  /**
   * Creates this version's index for a build (BUILD_SETTINGS), without the alias: it takes the alias
   * once built (moveAlias). The caller holds the build lock and dropped what an abandoned attempt left.
   */
  async createIndex(): Promise<void> {
    const { settings, mappings } = searchIndexBody();
    await this.requireClient().indices.create({ index: this.index, body: { settings: { ...settings, ...BUILD_SETTINGS }, mappings } });
    this.logger.log({ index: this.index }, 'Created the search index');
  }

  /**
   * Puts the serving settings on this version's index: it may predate today's merge policy, or be
   * a build whose mover stopped before putting them back (readyToServe).
   */
  async applyServingSettings(): Promise<void> {
    await this.requireClient().indices.putSettings({ index: this.index, body: SERVING_SETTINGS });
  }

  /** A built index made ready to be merged and to serve: refreshed at the default interval again, and everything written to it searchable. */
  async readyToServe(): Promise<void> {
    await this.applyServingSettings();
    await this.requireClient().indices.refresh({ index: this.index });
  }

  /**
   * Merges this version's index into as few segments as the merge policy keeps whole (5 GB each,
   * its max_merged_segment): a search visits every segment, and a backfill leaves dozens of small
   * ones. Merging a built index before it serves is the engines' reindex-then-swap practice.
   */
  async mergeSegments(): Promise<number> {
    const client = this.requireClient();
    const stats = await client.indices.stats({ index: this.index, metric: 'store' });
    const bytes = Number(stats.body.indices?.[this.index]?.primaries?.store?.size_in_bytes ?? 0);
    const segments = Math.max(1, Math.ceil(bytes / MAX_MERGED_SEGMENT_BYTES));
    await client.indices.forcemerge({ index: this.index, max_num_segments: segments }, { requestTimeout: MERGE_TIMEOUT_MS });
    // Searches read the merged segments from the next refresh on, and the ones they replace are freed
    // only then: an index nobody searched for 30 s skips its scheduled refreshes (search idle).
    await client.indices.refresh({ index: this.index });
    return segments;
  }

  /** Moves the alias from `from` to this version's index in one step: searches see one or the other. */
  async moveAlias(from: string | undefined): Promise<void> {
    await this.requireClient().indices.updateAliases({
      body: { actions: [...(from ? [{ remove: { index: from, alias: this.alias } }] : []), { add: { index: this.index, alias: this.alias } }] },
    });
    // Read again at the next search rather than trusting what was read before the move.
    this.aliasTarget = undefined;
  }

  requireClient(): OpenSearch.Client {
    if (!this.client) throw new Error('SEARCH_ENGINE_URL is not set');
    return this.client;
  }
}

/**
 * Stops queueing changes for the attached engine index (and any build of its next version) and
 * drops the queues; the indexes it detached.
 */
export async function detachSearchEngine(dataSource: DataSource): Promise<string[]> {
  return dataSource.transaction(async (manager) => {
    const detached: { engine_index: string }[] = await manager.query('SELECT engine_index FROM search_index_state');
    await manager.query('DELETE FROM search_index_state');
    await manager.query('DELETE FROM search_index_changes');
    await dropBuildRegistrations(manager);
    return detached.map((row) => row.engine_index);
  });
}

/** Stops queueing changes for any build of a next layout and drops its queue (its index stays in the engine). */
export async function dropBuildRegistrations(manager: EntityManager): Promise<void> {
  await manager.query('DELETE FROM search_index_builds');
  await manager.query('DELETE FROM search_index_build_changes');
}
