import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { affectedRows } from '@multipult/database';
import { Connection, ConnectionArgs, KeysetOrder, paginate } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { DocumentCacheService } from '../cache/document-cache.service';
import { readableDocumentsCondition } from '../documents/document-access';
import { Document } from '../documents/document.entity';
import { DocumentsService } from '../documents/documents.service';

/** A viewer's repeated views of one document count once per this period. */
const VIEW_DEDUPE_MS = 30 * 60_000;

/** Bookmarks newest first by when they were made. */
const NEWEST_BOOKMARKS = new KeysetOrder({
  connection: 'content.bookmarks',
  columns: [
    { expression: 'b.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'd.id', type: 'uuid', direction: 'DESC' },
  ],
});

@Injectable()
export class EngagementService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly documents: DocumentsService,
    private readonly documentCache: DocumentCacheService,
  ) {}

  /** Counter changes commit, then the document's cached row (which carries the counters) is retired. */
  private async countOn<T>(documentId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(work);
    await this.documentCache.invalidate(documentId);
    return result;
  }

  /** Likes or unlikes; the document's like count changes in the same transaction. */
  async setLiked(principal: AuthPrincipal, documentId: string, liked: boolean): Promise<{ document: Document; changed: boolean }> {
    await this.documents.getReadable(principal, documentId);
    return this.countOn(documentId, async (manager) => {
      const changed = liked
        ? (await manager.query('INSERT INTO document_likes (document_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING document_id', [
            documentId,
            principal.userId,
          ])).length > 0
        : (await affectedRows(manager, 'DELETE FROM document_likes WHERE document_id = $1 AND user_id = $2', [documentId, principal.userId])) > 0;
      if (changed) {
        await manager.query('UPDATE documents SET like_count = like_count + $2 WHERE id = $1', [documentId, liked ? 1 : -1]);
      }
      return { document: await manager.findOneByOrFail(Document, { id: documentId }), changed };
    });
  }

  async setBookmarked(
    principal: AuthPrincipal,
    documentId: string,
    bookmarked: boolean,
  ): Promise<{ document: Document; changed: boolean }> {
    const document = await this.documents.getReadable(principal, documentId);
    const changed = bookmarked
      ? (await this.dataSource.query('INSERT INTO document_bookmarks (document_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING document_id', [
          documentId,
          principal.userId,
        ])).length > 0
      : (await affectedRows(this.dataSource, 'DELETE FROM document_bookmarks WHERE document_id = $1 AND user_id = $2', [documentId, principal.userId])) > 0;
    return { document, changed };
  }

  /** Counts a view unless the same viewer viewed the same document recently (Redis mark). */
  async recordView(principal: AuthPrincipal, documentId: string): Promise<{ document: Document; changed: boolean }> {
    const document = await this.documents.getReadable(principal, documentId);
    const mark = `content:viewed:${documentId}:${principal.userId}`;
    if (await this.store.exists(mark)) return { document, changed: false };
    await this.store.set(mark, '1', VIEW_DEDUPE_MS);
    return this.countOn(documentId, async (manager) => {
      await manager.query(
        `INSERT INTO document_view_days (document_id, day, views) VALUES ($1, current_date, 1)
         ON CONFLICT (document_id, day) DO UPDATE SET views = document_view_days.views + 1`,
        [documentId],
      );
      await manager.query('UPDATE documents SET view_count = view_count + 1 WHERE id = $1', [documentId]);
      return { document: await manager.findOneByOrFail(Document, { id: documentId }), changed: true };
    });
  }

  /** Readable documents by views plus five times likes within the last `windowDays`. */
  async trending(principal: AuthPrincipal, windowDays: number, limit: number): Promise<{ document: Document; score: number }[]> {
    const readable = readableDocumentsCondition('d', principal);
    const rows: { id: string; score: string }[] = await this.dataSource
      .createQueryBuilder()
      .select('d.id', 'id')
      .addSelect(
        `coalesce((SELECT sum(v.views) FROM document_view_days v WHERE v.document_id = d.id AND v.day > current_date - :windowDays::int), 0)
         + 5 * (SELECT count(*) FROM document_likes l WHERE l.document_id = d.id AND l.created_at > now() - make_interval(days => :windowDays::int))`,
        'score',
      )
      .from(Document, 'd')
      .where(readable.sql, readable.params)
      .andWhere(
        `(EXISTS (SELECT 1 FROM document_view_days v WHERE v.document_id = d.id AND v.day > current_date - :windowDays::int)
          OR EXISTS (SELECT 1 FROM document_likes l WHERE l.document_id = d.id AND l.created_at > now() - make_interval(days => :windowDays::int)))`,
        { windowDays },
      )
      .orderBy('score', 'DESC')
      .addOrderBy('d.id', 'ASC')
      .limit(limit)
      .getRawMany();
    const documents = rows.length ? await this.dataSource.getRepository(Document).findBy({ id: In(rows.map((row) => row.id)) }) : [];
    const byId = new Map(documents.map((document) => [document.id, document]));
    return rows.filter((row) => byId.has(row.id)).map((row) => ({ document: byId.get(row.id) as Document, score: Number(row.score) }));
  }

  /** Which of these documents the viewer liked or bookmarked, in the order asked (for DataLoader). */
  async flags(table: 'document_likes' | 'document_bookmarks', userId: string, documentIds: readonly string[]): Promise<boolean[]> {
    const rows: { document_id: string }[] = await this.dataSource.query(
      `SELECT document_id FROM ${table} WHERE user_id = $1 AND document_id = ANY($2::uuid[])`,
      [userId, documentIds],
    );
    const marked = new Set(rows.map((row) => row.document_id));
    return documentIds.map((id) => marked.has(id));
  }

  /** The viewer's bookmarks (only their own), newest first, that they can still read. */
  async bookmarks(principal: AuthPrincipal, args: ConnectionArgs): Promise<Connection<Document>> {
    const readable = readableDocumentsCondition('d', principal);
    const query = this.dataSource
      .getRepository(Document)
      .createQueryBuilder('d')
      .innerJoin('document_bookmarks', 'b', 'b.document_id = d.id AND b.user_id = :viewerId', { viewerId: principal.userId })
      .where(readable.sql, readable.params);
    return paginate(query, NEWEST_BOOKMARKS, args);
  }
}
