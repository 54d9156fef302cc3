import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { DocumentDeleted, ERASED_USER_ID, HandlerTransaction, OutboxWriter, PrivacyParticipant } from '@multipult/events';
import { DocumentCacheService } from '../cache/document-cache.service';

export const CONTENT_PRIVACY_SERVICE = 'content';

type Rows<T> = [T[], number];

/**
 * The content service's part of the GDPR sagas. Erasure deletes what is the user's alone (likes,
 * bookmarks, collections, unpublished documents, their directory entry) and anonymizes what the
 * tenant keeps (published documents and versions stay, owned by the erased-user placeholder;
 * comments keep their place in threads, emptied).
 */
@Injectable()
export class ContentUserDataService implements OnApplicationBootstrap {
  constructor(
    private readonly participant: PrivacyParticipant,
    private readonly outbox: OutboxWriter,
    private readonly cache: DocumentCacheService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.participant.start({
      service: CONTENT_PRIVACY_SERVICE,
      erase: (manager, userId, transaction) => this.erase(manager, userId, transaction),
      collect: (manager, userId) => this.collect(manager, userId),
    });
  }

  async erase(manager: EntityManager, userId: string, transaction: HandlerTransaction): Promise<Record<string, number>> {
    const [likes]: Rows<{ document_id: string }> = await manager.query('DELETE FROM document_likes WHERE user_id = $1 RETURNING document_id', [userId]);
    // Each document keeps its like count with its likes.
    await manager.query('UPDATE documents SET like_count = greatest(like_count - 1, 0) WHERE id = ANY($1::uuid[])', [likes.map((like) => like.document_id)]);
    const [, bookmarks]: Rows<unknown> = await manager.query('DELETE FROM document_bookmarks WHERE user_id = $1', [userId]);
    const [, collections]: Rows<unknown> = await manager.query('DELETE FROM collections WHERE owner_id = $1', [userId]);
    const [drafts]: Rows<{ id: string; tenant_id: string }> = await manager.query(
      `DELETE FROM documents WHERE owner_id = $1 AND status <> 'published' RETURNING id, tenant_id`,
      [userId],
    );
    for (const draft of drafts) {
      await this.outbox.enqueue(manager, DocumentDeleted, {
        aggregateId: draft.id,
        tenantId: draft.tenant_id,
        actorId: null,
        payload: { documentId: draft.id, ownerId: userId },
      });
    }
    const [published]: Rows<{ id: string }> = await manager.query('UPDATE documents SET owner_id = $2 WHERE owner_id = $1 RETURNING id', [
      userId,
      ERASED_USER_ID,
    ]);
    const [, versions]: Rows<unknown> = await manager.query('UPDATE document_versions SET changed_by = $2 WHERE changed_by = $1', [userId, ERASED_USER_ID]);
    const [, comments]: Rows<unknown> = await manager.query(
      `UPDATE comments SET author_id = $2, body_markdown = '', body_html = '', deleted_at = coalesce(deleted_at, now()) WHERE author_id = $1`,
      [userId, ERASED_USER_ID],
    );
    const [, directory]: Rows<unknown> = await manager.query('DELETE FROM user_directory WHERE user_id = $1', [userId]);
    // Cached rows still name the user as owner.
    transaction.afterCommit(async () => {
      const touched = new Set([...drafts, ...published].map((document) => document.id).concat(likes.map((like) => like.document_id)));
      await Promise.all([...touched].map((documentId) => this.cache.invalidate(documentId)));
    });
    return {
      likes: likes.length,
      bookmarks,
      collections,
      unpublishedDocumentsDeleted: drafts.length,
      publishedDocumentsAnonymized: published.length,
      versionsAnonymized: versions,
      commentsAnonymized: comments,
      directoryEntries: directory,
    };
  }

  async collect(manager: EntityManager, userId: string): Promise<Record<string, unknown>> {
    const [documents, comments, likes, bookmarks, collections, directory] = await Promise.all([
      manager.query(
        `SELECT id, tenant_id AS "tenantId", title, summary, body, type, status, language, created_at AS "createdAt", published_at AS "publishedAt"
         FROM documents WHERE owner_id = $1 ORDER BY created_at`,
        [userId],
      ),
      manager.query(
        `SELECT id, tenant_id AS "tenantId", document_id AS "documentId", parent_id AS "parentId", body_markdown AS "bodyMarkdown",
                created_at AS "createdAt", edited_at AS "editedAt", deleted_at AS "deletedAt"
         FROM comments WHERE author_id = $1 ORDER BY created_at`,
        [userId],
      ),
      manager.query('SELECT document_id AS "documentId", created_at AS "createdAt" FROM document_likes WHERE user_id = $1 ORDER BY created_at', [userId]),
      manager.query('SELECT document_id AS "documentId", created_at AS "createdAt" FROM document_bookmarks WHERE user_id = $1 ORDER BY created_at', [userId]),
      manager.query(
        `SELECT c.id, c.tenant_id AS "tenantId", c.title, c.description, c.created_at AS "createdAt",
                coalesce(array_agg(i.document_id) FILTER (WHERE i.document_id IS NOT NULL), '{}') AS "documentIds"
         FROM collections c LEFT JOIN collection_items i ON i.collection_id = c.id WHERE c.owner_id = $1 GROUP BY c.id ORDER BY c.created_at`,
        [userId],
      ),
      manager.query('SELECT username, display_name AS "displayName" FROM user_directory WHERE user_id = $1', [userId]),
    ]);
    return { profile: directory[0] ?? null, documents, comments, likes, bookmarks, collections };
  }
}
