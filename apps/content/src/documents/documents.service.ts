import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { DocumentCreated, DocumentDeleted, DocumentPublished, DocumentUpdated, OutboxWriter } from '@multipult/events';
import {
  AppError,
  BadUserInputError,
  ConflictError,
  Connection,
  ConnectionArgs,
  ErrorCode,
  KeysetOrder,
  NotFoundError,
  groupByKeys,
  paginate,
} from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { Tag } from '../tags/tag.entity';
import { DocumentTranslation } from '../translations/translation.entity';
import { DocumentCacheService } from '../cache/document-cache.service';
import { SearchCacheService } from '../cache/search-cache.service';
import { canEdit, canRead, readableDocumentsCondition } from './document-access';
import { DocumentVersion } from './document-version.entity';
import { Document, DocumentStatus, searchConfigFor } from './document.entity';
import { CreateDocumentInput, UpdateDocumentInput } from './dto';

/** Sorted by code point, as the reindex command writes them (COLLATE "C"). */
const tagNamesOf = (tags: Tag[]) =>
  tags
    .map((tag) => tag.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .join(' ');

/** Documents newest first; a cursor is tied to the owner the list was narrowed to, if any. */
const NEWEST_DOCUMENTS = new KeysetOrder({
  connection: 'content.documents',
  columns: [
    { expression: 'document.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'document.id', type: 'uuid', direction: 'DESC' },
  ],
});

const EDITABLE_FIELDS = ['title', 'summary', 'body', 'type', 'language'] as const;

@Injectable()
export class DocumentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly searchCache: SearchCacheService,
    private readonly documentCache: DocumentCacheService,
  ) {}

  /** Runs a write and, once it has committed, retires the tenant's cached search results and the document's cached row. */
  private async write<T>(tenantId: string | null, documentId: string | null, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(work);
    await Promise.all([
      tenantId ? this.searchCache.invalidateTenant(tenantId) : undefined,
      documentId ? this.documentCache.invalidate(documentId) : undefined,
    ]);
    return result;
  }

  async create(principal: AuthPrincipal, tenantId: string, input: CreateDocumentInput): Promise<Document> {
    return this.write(tenantId, null, async (manager) => {
      const tags = await this.tenantTags(manager, tenantId, input.tagIds ?? []);
      await this.tenantAuthors(manager, tenantId, input.authorIds ?? []);
      const document = await manager.save(
        manager.create(Document, {
          tenantId,
          ownerId: principal.userId,
          title: input.title.trim(),
          summary: input.summary?.trim() ?? '',
          body: input.body,
          type: input.type,
          status: DocumentStatus.DRAFT,
          language: input.language,
          searchConfig: searchConfigFor(input.language),
          tagNames: tagNamesOf(tags),
          version: 1,
          viewCount: 0,
          likeCount: 0,
          publishedAt: null,
        }),
      );
      await this.setRelations(manager, document.id, input.authorIds, input.tagIds);
      await this.snapshot(manager, document, principal.userId);
      await this.outbox.enqueue(manager, DocumentCreated, {
        aggregateId: document.id,
        tenantId,
        actorId: principal.userId,
        payload: this.facts(document),
      });
      return document;
    });
  }

  async update(principal: AuthPrincipal, input: UpdateDocumentInput): Promise<Document> {
    return this.write(principal.tenantId, input.id, async (manager) => {
      const document = await this.lockEditable(manager, principal, input.id);
      if (input.expectedVersion !== undefined && input.expectedVersion !== document.version) {
        throw new ConflictError('errors.version_conflict', { expected: input.expectedVersion, actual: document.version });
      }
      // A translation is never in its document's language (search counts a language once per document).
      const { language } = input;
      if (language !== undefined && language !== document.language && (await manager.existsBy(DocumentTranslation, { documentId: document.id, language }))) {
        throw BadUserInputError.field('language', 'errors.language_has_translation', { language });
      }
      const changedFields: string[] = [];
      for (const field of EDITABLE_FIELDS) {
        if (input[field] === undefined || input[field] === document[field]) continue;
        Object.assign(document, { [field]: field === 'title' || field === 'summary' ? input[field]?.trim() : input[field] });
        changedFields.push(field);
      }
      document.searchConfig = searchConfigFor(document.language);
      if (input.tagIds) {
        const tags = await this.tenantTags(manager, document.tenantId, input.tagIds);
        document.tagNames = tagNamesOf(tags);
        changedFields.push('tags');
      }
      if (input.authorIds) {
        await this.tenantAuthors(manager, document.tenantId, input.authorIds);
        changedFields.push('authors');
      }
      if (!changedFields.length) return document;
      document.version += 1;
      await manager.save(document);
      await this.setRelations(manager, document.id, input.authorIds, input.tagIds);
      await this.snapshot(manager, document, principal.userId);
      await this.outbox.enqueue(manager, DocumentUpdated, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: { ...this.facts(document), changedFields },
      });
      return document;
    });
  }

  async publish(principal: AuthPrincipal, id: string): Promise<Document> {
    return this.write(principal.tenantId, id, async (manager) => {
      const document = await this.lockEditable(manager, principal, id);
      if (document.status === DocumentStatus.PUBLISHED) return document;
      document.status = DocumentStatus.PUBLISHED;
      document.publishedAt = new Date();
      await manager.save(document);
      await this.outbox.enqueue(manager, DocumentPublished, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: { ...this.facts(document), publishedAt: document.publishedAt.toISOString() },
      });
      return document;
    });
  }

  async archive(principal: AuthPrincipal, id: string): Promise<Document> {
    return this.write(principal.tenantId, id, async (manager) => {
      const document = await this.lockEditable(manager, principal, id);
      if (document.status === DocumentStatus.ARCHIVED) return document;
      document.status = DocumentStatus.ARCHIVED;
      await manager.save(document);
      await this.outbox.enqueue(manager, DocumentUpdated, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: { ...this.facts(document), changedFields: ['status'] },
      });
      return document;
    });
  }

  async delete(principal: AuthPrincipal, id: string): Promise<string> {
    return this.write(principal.tenantId, id, async (manager) => {
      const document = await this.lockEditable(manager, principal, id);
      await manager.delete(Document, { id: document.id });
      await this.outbox.enqueue(manager, DocumentDeleted, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: { documentId: document.id, ownerId: document.ownerId },
      });
      return document.id;
    });
  }

  /** A document the caller may read; NOT_FOUND for other tenants' and hidden drafts alike. */
  async getReadable(principal: AuthPrincipal, id: string): Promise<Document> {
    const document = await this.documentCache.get(id, () => this.dataSource.getRepository(Document).findOneBy({ id }));
    if (!document || !canRead(principal, document)) throw new NotFoundError('Document');
    return document;
  }

  /** Readable documents newest first; `ownerId` narrows to one user's documents. */
  async list(principal: AuthPrincipal, args: ConnectionArgs, ownerId?: string): Promise<Connection<Document>> {
    const readable = readableDocumentsCondition('document', principal);
    const query = this.dataSource.getRepository(Document).createQueryBuilder('document').where(readable.sql, readable.params);
    if (ownerId) query.andWhere('document.owner_id = :ownerId', { ownerId });
    return paginate(query, NEWEST_DOCUMENTS, args, { scope: ownerId });
  }

  /** Readable documents by id for federation references, in the order asked. */
  async findReadableByIds(principal: AuthPrincipal | null, ids: readonly string[]): Promise<(Document | null)[]> {
    const rows = await this.dataSource.getRepository(Document).findBy({ id: In([...ids]) });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const document = byId.get(id);
      return document && principal && canRead(principal, document) ? document : null;
    });
  }

  async authorsOf(documentIds: readonly string[]): Promise<Author[][]> {
    const rows: (Author & { documentId: string })[] = await this.dataSource
      .getRepository(Author)
      .createQueryBuilder('author')
      .innerJoin('document_authors', 'link', 'link.author_id = author.id')
      .addSelect('link.document_id', 'document_id')
      .where('link.document_id IN (:...documentIds)', { documentIds })
      .orderBy('link.position', 'ASC')
      .getRawAndEntities()
      .then(({ raw, entities }) =>
        entities.map((author, index) => Object.assign(author, { documentId: (raw[index] as { document_id: string }).document_id })),
      );
    return groupByKeys(documentIds, rows, (row) => row.documentId);
  }

  async tagsOf(documentIds: readonly string[]): Promise<Tag[][]> {
    const rows: (Tag & { documentId: string })[] = await this.dataSource
      .getRepository(Tag)
      .createQueryBuilder('tag')
      .innerJoin('document_tags', 'link', 'link.tag_id = tag.id')
      .addSelect('link.document_id', 'document_id')
      .where('link.document_id IN (:...documentIds)', { documentIds })
      .orderBy('tag.name', 'ASC')
      .getRawAndEntities()
      .then(({ raw, entities }) =>
        entities.map((tag, index) => Object.assign(tag, { documentId: (raw[index] as { document_id: string }).document_id })),
      );
    return groupByKeys(documentIds, rows, (row) => row.documentId);
  }

  versions(documentId: string): Promise<DocumentVersion[]> {
    return this.dataSource.getRepository(DocumentVersion).find({ where: { documentId }, order: { version: 'DESC' } });
  }

  /**
   * Runs `work` on a document the caller may edit, locked for the transaction; the tenant's cached
   * search results are retired once it commits. For writes of other features that belong to a document.
   */
  async changeDocument<T>(
    principal: AuthPrincipal,
    id: string,
    work: (manager: EntityManager, document: Document) => Promise<T>,
  ): Promise<T> {
    return this.write(principal.tenantId, id, async (manager) => work(manager, await this.lockEditable(manager, principal, id)));
  }

  private async lockEditable(manager: EntityManager, principal: AuthPrincipal, id: string): Promise<Document> {
    const document = await manager.findOne(Document, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!document || !canRead(principal, document)) throw new NotFoundError('Document');
    if (!canEdit(principal, document)) {
      throw new AppError(ErrorCode.FORBIDDEN, 'errors.forbidden');
    }
    return document;
  }

  private async tenantTags(manager: EntityManager, tenantId: string, ids: string[]): Promise<Tag[]> {
    if (!ids.length) return [];
    const tags = await manager.findBy(Tag, { tenantId, id: In(ids) });
    if (tags.length !== new Set(ids).size) throw new NotFoundError('Tag');
    return tags;
  }

  private async tenantAuthors(manager: EntityManager, tenantId: string, ids: string[]): Promise<void> {
    if (!ids.length) return;
    const found = await manager.countBy(Author, { tenantId, id: In(ids) });
    if (found !== new Set(ids).size) throw new NotFoundError('Author');
  }

  /** Writes the link tables and their copies on the document row (`author_ids`, `tag_ids`) that search filters and facets read. */
  private async setRelations(manager: EntityManager, documentId: string, authorIds?: string[], tagIds?: string[]): Promise<void> {
    if (authorIds) {
      const unique = [...new Set(authorIds)];
      await manager.query('DELETE FROM document_authors WHERE document_id = $1', [documentId]);
      await manager.query(
        'INSERT INTO document_authors (document_id, author_id, position) SELECT $1, id, ord FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, ord)',
        [documentId, unique],
      );
      await manager.query('UPDATE documents SET author_ids = $2::uuid[] WHERE id = $1', [documentId, unique]);
    }
    if (tagIds) {
      const unique = [...new Set(tagIds)].sort();
      await manager.query('DELETE FROM document_tags WHERE document_id = $1', [documentId]);
      await manager.query('INSERT INTO document_tags (document_id, tag_id) SELECT $1, unnest($2::uuid[])', [documentId, unique]);
      await manager.query('UPDATE documents SET tag_ids = $2::uuid[] WHERE id = $1', [documentId, unique]);
    }
  }

  private async snapshot(manager: EntityManager, document: Document, changedBy: string): Promise<void> {
    await manager.insert(DocumentVersion, {
      documentId: document.id,
      tenantId: document.tenantId,
      version: document.version,
      title: document.title,
      summary: document.summary,
      body: document.body,
      changedBy,
    });
  }

  private facts(document: Document) {
    return {
      documentId: document.id,
      ownerId: document.ownerId,
      title: document.title,
      type: document.type,
      status: document.status,
      language: document.language,
      version: document.version,
    };
  }
}
