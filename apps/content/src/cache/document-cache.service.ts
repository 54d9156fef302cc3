import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  DocumentDeleted,
  DocumentPublished,
  DocumentTranslationDeleted,
  DocumentTranslationSaved,
  DocumentUpdated,
  EventConsumer,
} from '@multipult/events';
import { counter } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
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
 * Hot documents in Redis: a read-through cache of document rows by id under a per-document
 * generation. Every committed change to a document (fields, status, counters) bumps its generation,
 * right after the commit by the writer and again when the change's event arrives (for writes made
 * by other instances), so a row read before a change is never served after it: a reader that
 * loaded it stores it under the generation it started with, which nobody asks for any more.
 */
@Injectable()
export class DocumentCacheService implements OnApplicationBootstrap {
  private readonly logger = new Logger(DocumentCacheService.name);

  constructor(
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly events: EventConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'content.document-cache',
      contracts: [DocumentUpdated, DocumentPublished, DocumentDeleted, DocumentTranslationSaved, DocumentTranslationDeleted],
      handler: async (event) => this.invalidate(event.payload.documentId),
    });
  }

  /** The document from the cache, or from `load` (then cached when found). */
  async get(id: string, load: () => Promise<Document | null>): Promise<Document | null> {
    let key: string | undefined;
    try {
      const generation = (await this.store.get(this.generationKey(id))) ?? '0';
      key = `content:document:${id}:${generation}`;
      const cached = await this.store.get(key);
      if (cached !== null) {
        cacheLookups().inc({ outcome: 'hit' });
        return revive(cached);
      }
    } catch (error) {
      // The cache only saves PostgreSQL reads; without Redis, documents are read from PostgreSQL.
      this.logger.warn({ err: error }, 'document cache unavailable');
      key = undefined;
    }
    cacheLookups().inc({ outcome: 'miss' });
    const document = await load();
    if (key && document) await this.store.set(key, JSON.stringify(document), DOCUMENT_TTL_MS).catch(() => undefined);
    return document;
  }

  async invalidate(id: string): Promise<void> {
    await this.store.set(this.generationKey(id), `${Date.now()}-${Math.random().toString(36).slice(2)}`, DOCUMENT_TTL_MS * 2);
  }

  private generationKey(id: string): string {
    return `content:document-generation:${id}`;
  }
}
