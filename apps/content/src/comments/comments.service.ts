import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { AuthPrincipal, hasPermission } from '@multipult/auth';
import { CommentCreated, CommentReplied, OutboxEvent, OutboxWriter, UserMentioned, outboxEvent } from '@multipult/events';
import { AppError, ErrorCode, ForbiddenError, NotFoundError, groupByKeys } from '@multipult/graphql';
import { DocumentsService } from '../documents/documents.service';
import { UserDirectoryService } from '../users/user-directory.service';
import { CommentFeed } from './comment-feed';
import { Comment, MAX_COMMENT_DEPTH } from './comment.entity';
import { AddCommentInput, EditCommentInput } from './dto';
import { renderMarkdown } from './markdown';
import { mentionedUsernames } from './mentions';

@Injectable()
export class CommentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly documents: DocumentsService,
    private readonly outbox: OutboxWriter,
    private readonly directory: UserDirectoryService,
    private readonly feed: CommentFeed,
  ) {}

  async add(principal: AuthPrincipal, input: AddCommentInput): Promise<Comment> {
    const document = await this.documents.getReadable(principal, input.documentId);
    const parent = input.parentId ? await this.dataSource.manager.findOneBy(Comment, { id: input.parentId, documentId: document.id }) : null;
    if (input.parentId && !parent) throw new NotFoundError('Comment');
    if (parent && parent.depth >= MAX_COMMENT_DEPTH) {
      throw new AppError(ErrorCode.BAD_USER_INPUT, 'errors.comment_too_deep', { levels: MAX_COMMENT_DEPTH + 1 });
    }
    const mentioned = await this.mentionedUserIds(this.dataSource.manager, principal.userId, mentionedUsernames(input.body));
    const values = {
      id: randomUUID(),
      tenantId: document.tenantId,
      documentId: document.id,
      parentId: parent?.id ?? null,
      depth: parent ? parent.depth + 1 : 0,
      authorId: principal.userId,
      bodyMarkdown: input.body,
      bodyHtml: renderMarkdown(input.body),
    };
    const about = { aggregateId: document.id, tenantId: document.tenantId, actorId: principal.userId };
    const events = [
      outboxEvent(CommentCreated, {
        ...about,
        payload: {
          commentId: values.id,
          documentId: document.id,
          documentOwnerId: document.ownerId,
          authorId: principal.userId,
          parentCommentId: parent?.id ?? null,
        },
      }),
    ];
    if (parent) {
      events.push(
        outboxEvent(CommentReplied, {
          ...about,
          payload: {
            commentId: values.id,
            documentId: document.id,
            parentCommentId: parent.id,
            parentAuthorId: parent.authorId,
            replierId: principal.userId,
          },
        }),
      );
    }
    // The comment and its events in one statement, its own transaction: the round trips of BEGIN
    // and COMMIT were a good part of a comment's cost. The reads above need no transaction: a parent
    // or a mentioned account removed meanwhile is what a moment later would have seen anyway.
    const { rows } = await this.outbox.writeWithEvents<{ created_at: Date }>(
      this.dataSource,
      {
        sql: `INSERT INTO comments (id, tenant_id, document_id, parent_id, depth, author_id, body_markdown, body_html)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
              RETURNING created_at`,
        parameters: [values.id, values.tenantId, values.documentId, values.parentId, values.depth, values.authorId, values.bodyMarkdown, values.bodyHtml],
      },
      [...events, ...mentionEvents(values, mentioned)],
    );
    const added = Object.assign(new Comment(), values, { createdAt: rows[0].created_at, editedAt: null, deletedAt: null });
    await this.feed.added(added);
    return added;
  }

  async edit(principal: AuthPrincipal, input: EditCommentInput): Promise<Comment> {
    const comment = await this.visible(principal, input.id);
    if (comment.authorId !== principal.userId || comment.deletedAt) throw new ForbiddenError();
    const alreadyMentioned = new Set(mentionedUsernames(comment.bodyMarkdown));
    comment.bodyMarkdown = input.body;
    comment.bodyHtml = renderMarkdown(input.body);
    comment.editedAt = new Date();
    return this.dataSource.transaction(async (manager) => {
      const saved = await manager.save(comment);
      // Only people newly mentioned by the edit hear about it.
      const newlyMentioned = mentionedUsernames(input.body).filter((username) => !alreadyMentioned.has(username));
      await this.outbox.enqueueAll(manager, mentionEvents(saved, await this.mentionedUserIds(manager, saved.authorId, newlyMentioned)));
      return saved;
    });
  }

  /** Known users named in a comment, except its author. */
  private async mentionedUserIds(manager: EntityManager, authorId: string, usernames: string[]): Promise<string[]> {
    return (await this.directory.idsOf(usernames, manager)).filter((id) => id !== authorId);
  }

  /** Soft delete: the comment keeps its place so replies stay in their thread. */
  async delete(principal: AuthPrincipal, id: string): Promise<Comment> {
    const comment = await this.visible(principal, id);
    const moderator = hasPermission(principal.permissions, 'content:moderate');
    if (comment.authorId !== principal.userId && !moderator) throw new ForbiddenError();
    if (!comment.deletedAt) {
      Object.assign(comment, { deletedAt: new Date(), bodyMarkdown: '', bodyHtml: '' });
      await this.dataSource.getRepository(Comment).save(comment);
    }
    return comment;
  }

  /** Top-level comments of many documents (DataLoader batch), oldest first. */
  async topLevelOf(documentIds: readonly string[]): Promise<Comment[][]> {
    const rows = await this.dataSource.getRepository(Comment).find({
      where: { documentId: In([...documentIds]), parentId: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return groupByKeys(documentIds, rows, (row) => row.documentId);
  }

  async repliesOf(parentIds: readonly string[]): Promise<Comment[][]> {
    const rows = await this.dataSource.getRepository(Comment).find({
      where: { parentId: In([...parentIds]) },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return groupByKeys(parentIds, rows, (row) => row.parentId as string);
  }

  private async visible(principal: AuthPrincipal, id: string): Promise<Comment> {
    const comment = await this.dataSource.getRepository(Comment).findOneBy({ id });
    if (!comment) throw new NotFoundError('Comment');
    await this.documents.getReadable(principal, comment.documentId).catch(() => {
      throw new NotFoundError('Comment');
    });
    return comment;
  }
}

/** One user.mentioned per mentioned user. */
function mentionEvents(comment: Pick<Comment, 'id' | 'documentId' | 'tenantId' | 'authorId'>, userIds: string[]): OutboxEvent[] {
  return userIds.map((mentionedUserId) =>
    outboxEvent(UserMentioned, {
      aggregateId: comment.documentId,
      tenantId: comment.tenantId,
      actorId: comment.authorId,
      payload: { mentionedUserId, mentionedBy: comment.authorId, commentId: comment.id, documentId: comment.documentId },
    }),
  );
}
