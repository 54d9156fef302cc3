import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import {
  BadUserInputError,
  ConflictError,
  Connection,
  ConnectionArgs,
  ForbiddenError,
  KeysetOrder,
  NotFoundError,
  paginate,
} from '@multipult/graphql';
import { canEdit, readableDocumentsCondition } from '../documents/document-access';
import { Document } from '../documents/document.entity';
import { DocumentsService } from '../documents/documents.service';
import { insertAt, isPermutationOf, moveTo } from './collection-order';
import { Collection } from './collection.entity';
import {
  AddDocumentToCollectionInput,
  CollectionDocumentInput,
  CreateCollectionInput,
  MAX_COLLECTION_DOCUMENTS,
  MoveDocumentInCollectionInput,
  ReorderCollectionInput,
  UpdateCollectionInput,
} from './dto';

const NEWEST_COLLECTIONS = new KeysetOrder({
  connection: 'content.collections',
  columns: [
    { expression: 'collection.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'collection.id', type: 'uuid', direction: 'DESC' },
  ],
});

/** A collection's documents in its order; a cursor belongs to one collection. */
const COLLECTION_ORDER = new KeysetOrder({
  connection: 'content.collection.documents',
  columns: [
    { expression: 'item.position', type: 'integer', direction: 'ASC' },
    { expression: 'document.id', type: 'uuid', direction: 'ASC' },
  ],
});

/**
 * Collections of the tenant, readable by every reader of the tenant; changed by their owner or an
 * editor. Every change to a collection's items locks the collection row, so concurrent edits apply
 * one after the other to the order they see, and positions stay dense.
 */
@Injectable()
export class CollectionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly documents: DocumentsService,
  ) {}

  create(principal: AuthPrincipal, tenantId: string, input: CreateCollectionInput): Promise<Collection> {
    const collections = this.dataSource.getRepository(Collection);
    return collections.save(
      collections.create({ tenantId, ownerId: principal.userId, title: input.title.trim(), description: input.description?.trim() ?? '' }),
    );
  }

  update(principal: AuthPrincipal, input: UpdateCollectionInput): Promise<Collection> {
    return this.change(principal, input.id, async (manager, collection) => {
      if (input.title !== undefined) collection.title = input.title.trim();
      if (input.description !== undefined) collection.description = input.description.trim();
      return manager.save(collection);
    });
  }

  delete(principal: AuthPrincipal, id: string): Promise<string> {
    return this.change(principal, id, async (manager, collection) => {
      await manager.delete(Collection, { id: collection.id });
      return collection.id;
    });
  }

  /** Adds a document the caller can read; others' drafts and other tenants' documents are NOT_FOUND. */
  async addDocument(principal: AuthPrincipal, input: AddDocumentToCollectionInput): Promise<Collection> {
    await this.documents.getReadable(principal, input.documentId);
    return this.change(principal, input.collectionId, async (manager, collection) => {
      const order = await this.order(manager, collection.id);
      if (order.includes(input.documentId)) throw new ConflictError('errors.collection_has_document');
      if (order.length >= MAX_COLLECTION_DOCUMENTS) {
        throw BadUserInputError.field('documentId', 'errors.collection_full', { max: MAX_COLLECTION_DOCUMENTS });
      }
      await manager.query(
        'INSERT INTO collection_items (collection_id, document_id, position, added_by) VALUES ($1, $2, $3, $4)',
        [collection.id, input.documentId, order.length, principal.userId],
      );
      await this.writeOrder(manager, collection.id, insertAt(order, input.documentId, input.position));
      return collection;
    });
  }

  removeDocument(principal: AuthPrincipal, input: CollectionDocumentInput): Promise<Collection> {
    return this.change(principal, input.collectionId, async (manager, collection) => {
      const order = await this.order(manager, collection.id);
      if (!order.includes(input.documentId)) throw new NotFoundError('CollectionItem');
      await manager.query('DELETE FROM collection_items WHERE collection_id = $1 AND document_id = $2', [collection.id, input.documentId]);
      await this.writeOrder(
        manager,
        collection.id,
        order.filter((id) => id !== input.documentId),
      );
      return collection;
    });
  }

  moveDocument(principal: AuthPrincipal, input: MoveDocumentInCollectionInput): Promise<Collection> {
    return this.change(principal, input.collectionId, async (manager, collection) => {
      const order = await this.order(manager, collection.id);
      if (!order.includes(input.documentId)) throw new NotFoundError('CollectionItem');
      await this.writeOrder(manager, collection.id, moveTo(order, input.documentId, input.position));
      return collection;
    });
  }

  reorder(principal: AuthPrincipal, input: ReorderCollectionInput): Promise<Collection> {
    return this.change(principal, input.collectionId, async (manager, collection) => {
      const order = await this.order(manager, collection.id);
      if (!isPermutationOf(order, input.documentIds)) {
        throw BadUserInputError.field('documentIds', 'errors.collection_order_mismatch', { count: order.length });
      }
      await this.writeOrder(manager, collection.id, input.documentIds);
      return collection;
    });
  }

  async get(principal: AuthPrincipal, id: string): Promise<Collection> {
    const collection = principal.tenantId
      ? await this.dataSource.getRepository(Collection).findOneBy({ id, tenantId: principal.tenantId })
      : null;
    if (!collection) throw new NotFoundError('Collection');
    return collection;
  }

  /** The tenant's collections, newest first. */
  async list(principal: AuthPrincipal, args: ConnectionArgs): Promise<Connection<Collection>> {
    const query = this.dataSource
      .getRepository(Collection)
      .createQueryBuilder('collection')
      .where('collection.tenant_id = :tenantId', { tenantId: principal.tenantId });
    return paginate(query, NEWEST_COLLECTIONS, args);
  }

  /** The collection's documents the caller may read, in collection order. */
  async documentsOf(principal: AuthPrincipal, collectionId: string, args: ConnectionArgs): Promise<Connection<Document>> {
    const readable = readableDocumentsCondition('document', principal);
    const query = this.dataSource
      .getRepository(Document)
      .createQueryBuilder('document')
      .innerJoin('collection_items', 'item', 'item.document_id = document.id AND item.collection_id = :collectionId', { collectionId })
      .where(readable.sql, readable.params);
    return paginate(query, COLLECTION_ORDER, args, { scope: collectionId });
  }

  /** How many documents each collection shows the caller (for a DataLoader). */
  async documentCounts(principal: AuthPrincipal, collectionIds: readonly string[]): Promise<number[]> {
    const readable = readableDocumentsCondition('document', principal);
    const rows: { collection_id: string; count: string }[] = await this.dataSource
      .createQueryBuilder()
      .select('item.collection_id', 'collection_id')
      .addSelect('count(*)', 'count')
      .from('collection_items', 'item')
      .innerJoin(Document, 'document', 'document.id = item.document_id')
      .where('item.collection_id IN (:...collectionIds)', { collectionIds })
      .andWhere(readable.sql, readable.params)
      .groupBy('item.collection_id')
      .getRawMany();
    const counts = new Map(rows.map((row) => [row.collection_id, Number(row.count)]));
    return collectionIds.map((id) => counts.get(id) ?? 0);
  }

  /** Runs `work` on a collection the caller may change, locked until the transaction ends. */
  private change<T>(principal: AuthPrincipal, id: string, work: (manager: EntityManager, collection: Collection) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const collection = principal.tenantId
        ? await manager.findOne(Collection, { where: { id, tenantId: principal.tenantId }, lock: { mode: 'pessimistic_write' } })
        : null;
      if (!collection) throw new NotFoundError('Collection');
      if (!canEdit(principal, collection)) throw new ForbiddenError();
      const result = await work(manager, collection);
      await manager.update(Collection, { id: collection.id }, { updatedAt: new Date() });
      return result;
    });
  }

  private async order(manager: EntityManager, collectionId: string): Promise<string[]> {
    const rows: { document_id: string }[] = await manager.query(
      'SELECT document_id FROM collection_items WHERE collection_id = $1 ORDER BY position',
      [collectionId],
    );
    return rows.map((row) => row.document_id);
  }

  /** Positions 0..n-1 in this order, in one statement (the unique position constraint is checked at commit). */
  private async writeOrder(manager: EntityManager, collectionId: string, order: string[]): Promise<void> {
    await manager.query(
      `UPDATE collection_items item SET position = o.ordinality - 1
       FROM unnest($2::uuid[]) WITH ORDINALITY AS o(document_id, ordinality)
       WHERE item.collection_id = $1 AND item.document_id = o.document_id AND item.position <> o.ordinality - 1`,
      [collectionId, order],
    );
  }
}
