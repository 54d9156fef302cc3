import { Injectable, Logger } from '@nestjs/common';
import { Client } from '@opensearch-project/opensearch';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import type { ContentConfig } from '../../config';
import { searchIndexBody } from './search-index.mapping';

/** The first index behind the alias; a mapping change creates the next and moves the alias (reindex). */
const INDEX_VERSION = 1;

/**
 * The external search engine (OpenSearch) when SEARCH_ENGINE_URL is set: its client and the index
 * behind the configured alias.
 */
@Injectable()
export class SearchEngine {
  private readonly logger = new Logger(SearchEngine.name);
  readonly client?: Client;
  readonly alias: string;

  constructor(@InjectConfig() config: ContentConfig) {
    this.alias = config.SEARCH_ENGINE_INDEX;
    if (config.SEARCH_ENGINE_URL) {
      this.client = new Client({ node: config.SEARCH_ENGINE_URL, requestTimeout: 10_000, maxRetries: 1 });
    }
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /**
   * Creates the versioned index and its alias when the alias does not exist yet; true when this
   * call created it (so the caller backfills it), false when it was there already.
   */
  async ensureIndex(): Promise<boolean> {
    const client = this.requireClient();
    const exists = await client.indices.existsAlias({ name: this.alias });
    if (exists.body) return false;
    const index = `${this.alias}-v${INDEX_VERSION}`;
    try {
      await client.indices.create({ index, body: { ...searchIndexBody(), aliases: { [this.alias]: {} } } });
    } catch (error) {
      // Another replica created it first: it backfills.
      if (errorType(error) === 'resource_already_exists_exception') return false;
      throw error;
    }
    this.logger.log({ index, alias: this.alias }, 'Created the search index');
    return true;
  }

  requireClient(): Client {
    if (!this.client) throw new Error('SEARCH_ENGINE_URL is not set');
    return this.client;
  }
}

/** The engine's error type (`resource_already_exists_exception`, ...) of a failed request, if it said one. */
function errorType(error: unknown): string | undefined {
  const body = (error as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}

/** Stops queueing changes for the attached engine index and drops the queue; the indexes it detached. */
export async function detachSearchEngine(dataSource: DataSource): Promise<string[]> {
  return dataSource.transaction(async (manager) => {
    const detached: { engine_index: string }[] = await manager.query('SELECT engine_index FROM search_index_state');
    await manager.query('DELETE FROM search_index_state');
    await manager.query('DELETE FROM search_index_changes');
    return detached.map((row) => row.engine_index);
  });
}
