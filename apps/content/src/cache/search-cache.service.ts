import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  DocumentCreated,
  DocumentDeleted,
  DocumentPublished,
  DocumentTranslationDeleted,
  DocumentTranslationSaved,
  DocumentUpdated,
  EventConsumer,
  SearchReindexed,
} from '@multipult/events';
import { counter } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';

const RESULT_TTL_MS = 5 * 60_000;

const cacheLookups = () =>
  counter({ name: 'content_search_cache_total', help: 'Search cache lookups by outcome', labelNames: ['outcome'] as const });

/**
 * Caches search results per tenant in Redis under a tenant generation: every document write bumps
 * the generation right after its transaction commits (and again when its event arrives, for writes
 * made elsewhere), so no result computed before a change is served after it.
 */
@Injectable()
export class SearchCacheService implements OnApplicationBootstrap {
  private readonly logger = new Logger(SearchCacheService.name);

  constructor(
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly events: EventConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'content.search-cache',
      contracts: [
        DocumentCreated,
        DocumentUpdated,
        DocumentPublished,
        DocumentDeleted,
        DocumentTranslationSaved,
        DocumentTranslationDeleted,
        SearchReindexed,
      ],
      handler: async (event) => {
        const tenantIds = event.type === 'search.reindexed' ? event.payload.tenantIds : [event.tenantId];
        for (const tenantId of tenantIds) if (tenantId) await this.invalidateTenant(tenantId);
      },
    });
  }

  /** The cached value for this tenant and request, or what `compute` returns (then cached). */
  async getOrCompute<T>(tenantId: string, scope: string, request: unknown, compute: () => Promise<T>): Promise<T> {
    let key: string | undefined;
    try {
      const generation = (await this.store.get(this.generationKey(tenantId))) ?? '0';
      const digest = createHash('sha256').update(JSON.stringify(request)).digest('base64url');
      key = `content:search:${tenantId}:${generation}:${scope}:${digest}`;
      const cached = await this.store.get(key);
      if (cached !== null) {
        cacheLookups().inc({ outcome: 'hit' });
        return JSON.parse(cached) as T;
      }
    } catch (error) {
      // The cache only speeds things up; without Redis, search still answers from PostgreSQL.
      this.logger.warn({ err: error }, 'search cache unavailable');
      key = undefined;
    }
    cacheLookups().inc({ outcome: 'miss' });
    const value = await compute();
    if (key) await this.store.set(key, JSON.stringify(value), RESULT_TTL_MS).catch(() => undefined);
    return value;
  }

  async invalidateTenant(tenantId: string): Promise<void> {
    await this.store.set(this.generationKey(tenantId), `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  }

  private generationKey(tenantId: string): string {
    return `content:search-generation:${tenantId}`;
  }
}
