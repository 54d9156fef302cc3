import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import {
  DocumentDeleted,
  DocumentPublished,
  DocumentTranslationDeleted,
  DocumentTranslationSaved,
  DocumentUpdated,
  EventConsumer,
} from '@multipult/events';
import { counter } from '@multipult/observability';
import { FAST_STORE, FastStore, GenerationCache } from '@multipult/redis';
import { Document } from '../documents/document.entity';

const DOCUMENT_TTL_MS = 10 * 60_000;

const cacheLookups = () =>
  counter({ name: 'content_document_cache_total', help: 'Document cache lookups by outcome', labelNames: ['outcome'] as const });

/** Document rows as JSON, with their dates restored on the way back. */
const DATE_FIELDS = ['createdAt', 'updatedAt', 'publishedAt'] as const;
function revive(json: string): Document {
  const document = Object.assign(new Document(), JSON.parse(json) as Document);
  for (const field of DATE_FIELDS) if (document[field]) Object.assign(document, { [field]: new Date(document[field] as Date) });
  return document;
}

/**
 * Hot documents in Redis: a read-through cache of document rows by id, one generation per document.
 * Every committed change to a document (fields, status, counters) bumps its generation, right after
 * the commit by the writer and again when the change's event arrives (for writes made by other
 * instances), so a row read before a change is never served after it.
 */
@Injectable()
export class DocumentCacheService implements OnApplicationBootstrap {
  private readonly cache: GenerationCache;

  constructor(
    @Inject(FAST_STORE) store: FastStore,
    private readonly events: EventConsumer,
  ) {
    // Registered at start, not on the first lookup, so dashboards find the series from the start.
    cacheLookups();
    this.cache = new GenerationCache(store, {
      name: 'content:document',
      ttlMs: DOCUMENT_TTL_MS,
      generationTtlMs: DOCUMENT_TTL_MS * 2,
      onLookup: (outcome) => cacheLookups().inc({ outcome }),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'content.document-cache',
      contracts: [DocumentUpdated, DocumentPublished, DocumentDeleted, DocumentTranslationSaved, DocumentTranslationDeleted],
      handler: async (event) => this.invalidate(event.payload.documentId),
    });
  }

  /** The document from the cache, or from `load` (then cached when found). */
  get(id: string, load: () => Promise<Document | null>): Promise<Document | null> {
    return this.cache.getOrLoad(id, '', load, {
      encode: (document) => (document ? JSON.stringify(document) : undefined),
      decode: revive,
    });
  }

  /** The documents by id from the cache, and from `loadMany` for the rest (then cached); ids not found are absent. */
  async getMany(ids: string[], loadMany: (ids: string[]) => Promise<Document[]>): Promise<Map<string, Document>> {
    return this.cache.getOrLoadMany(ids, '', async (missing) => new Map((await loadMany(missing)).map((document) => [document.id, document])), { decode: revive });
  }

  invalidate(id: string): Promise<void> {
    return this.cache.invalidate(id);
  }
}
