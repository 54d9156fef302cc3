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
import { DocumentTranslation } from '../translations/translation.entity';

const DOCUMENT_TTL_MS = 10 * 60_000;

const cacheLookups = () =>
  counter({ name: 'content_document_cache_total', help: 'Document cache lookups by outcome', labelNames: ['outcome'] as const });

/** Rows as JSON, with their dates restored on the way back. */
function reviver<T extends object>(Entity: new () => T, dateFields: readonly (keyof T & string)[]): (json: string) => T {
  return (json) => {
    const row = Object.assign(new Entity(), JSON.parse(json) as T);
    for (const field of dateFields) if (row[field]) Object.assign(row, { [field]: new Date(row[field] as string) });
    return row;
  };
}
const reviveDocument = reviver(Document, ['createdAt', 'updatedAt', 'publishedAt']);
const reviveTranslation = reviver(DocumentTranslation, ['createdAt', 'updatedAt']);

/** A translation by its id and its document's (whose generation it is cached under). */
export interface TranslationRef {
  documentId: string;
  translationId: string;
}

/**
 * Hot documents in Redis: a read-through cache of document rows and their translations' rows by id,
 * one generation per document. Every committed change to a document (fields, status, counters, its
 * translations) bumps its generation, right after the commit by the writer and again when the
 * change's event arrives (for writes made by other instances), so a row read before a change is
 * never served after it.
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
      decode: reviveDocument,
    });
  }

  /** The documents by id from the cache, and from `loadMany` for the rest (then cached); ids not found are absent. */
  async getMany(ids: string[], loadMany: (ids: string[]) => Promise<Document[]>): Promise<Map<string, Document>> {
    return this.cache.getOrLoadMany(ids, '', async (missing) => new Map((await loadMany(missing)).map((document) => [document.id, document])), { decode: reviveDocument });
  }

  /** The translations from the cache, and from `loadMany` for the rest (then cached), in the order of `refs`; absent when not found. */
  async getTranslations(refs: TranslationRef[], loadMany: (ids: string[]) => Promise<DocumentTranslation[]>): Promise<(DocumentTranslation | undefined)[]> {
    return this.cache.getOrLoadEntries(
      refs.map((ref) => ({ ...ref, scope: ref.documentId, key: `translation:${ref.translationId}` })),
      async (missing) => {
        const byId = new Map((await loadMany(missing.map((ref) => ref.translationId))).map((translation) => [translation.id, translation]));
        // A translation is cached only under the document it belongs to.
        return missing.map((ref) => {
          const translation = byId.get(ref.translationId);
          return translation?.documentId === ref.documentId ? translation : undefined;
        });
      },
      { decode: reviveTranslation },
    );
  }

  invalidate(id: string): Promise<void> {
    return this.cache.invalidate(id);
  }
}
