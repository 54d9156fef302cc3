import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MoreThanOrEqual } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { AsyncQueue } from '@multipult/realtime';
import { PUB_SUB, PubSub } from '@multipult/redis';
import { DocumentsService } from '../documents/documents.service';
import { Comment } from './comment.entity';

const channelOf = (documentId: string) => `content:comments:${documentId}`;

/** Comments read back after a gap on the bus, at most. */
const GAP_READ_LIMIT = 500;
/** A comment's transaction may commit this long after its created_at and still be found after a gap. */
const COMMIT_LAG_MS = 60_000;
/** Ids remembered per stream, so a comment read back after a gap is not sent twice. */
const REMEMBERED_IDS = 10_000;

/** What one stream has sent: recent ids, and from when a re-read after a gap must look. */
class DeliveredComments {
  private readonly ids = new Set<string>();
  private newest: Date;

  constructor(private readonly since: Date) {
    this.newest = since;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(comment: Comment): void {
    this.ids.add(comment.id);
    if (this.ids.size > REMEMBERED_IDS) this.ids.delete(this.ids.values().next().value as string);
    if (comment.createdAt > this.newest) this.newest = comment.createdAt;
  }

  recheckFrom(): Date {
    return new Date(Math.max(this.since.getTime(), this.newest.getTime() - COMMIT_LAG_MS));
  }
}

/**
 * Live comments: a committed comment's id goes out on the document's pub/sub channel (Redis, so
 * subscribers on every instance hear it), and each subscriber reads the comment back from
 * Postgres, delivering it only while the caller may still read the document.
 */
@Injectable()
export class CommentFeed implements OnApplicationShutdown {
  private readonly logger = new Logger(CommentFeed.name);

  constructor(
    @Inject(PUB_SUB) private readonly pubSub: PubSub,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly documents: DocumentsService,
  ) {}

  /** After the comment's transaction committed; a lost message loses only the live update, never the comment. */
  async added(comment: Comment): Promise<void> {
    await this.pubSub
      .publish(channelOf(comment.documentId), comment.id)
      .catch((error: Error) => this.logger.warn(`Live comment ${comment.id} not published: ${error.message}`));
  }

  /**
   * Comments added to a document from now on; NOT_FOUND when the caller cannot read it. After a
   * gap on the bus the comments added since are read back, so none committed meanwhile is missed.
   */
  async commentsOf(principal: AuthPrincipal, documentId: string): Promise<AsyncQueue<Comment>> {
    await this.documents.getReadable(principal, documentId);
    const [{ now }]: { now: Date }[] = await this.dataSource.query('SELECT now() AS now');
    const delivered = new DeliveredComments(now);
    let delivery = Promise.resolve();
    const queue: AsyncQueue<Comment> = new AsyncQueue(() => void unsubscribe.then((stop) => stop()));
    // In arrival order: each step reads and checks after the one before it.
    const serially = (what: string, read: () => Promise<Comment[]>) => {
      delivery = delivery.then(async () => {
        try {
          const comments = (await read()).filter((comment) => !delivered.has(comment.id));
          if (!comments.length) return;
          const readable = await this.documents.getReadable(principal, documentId).then(
            () => true,
            () => false,
          );
          if (!readable) return;
          for (const comment of comments) {
            delivered.add(comment);
            queue.push(comment);
          }
        } catch (error) {
          this.logger.warn(`Live comments of ${documentId} (${what}): ${(error as Error).message}`);
        }
      });
    };
    const comments = this.dataSource.getRepository(Comment);
    const unsubscribe = this.pubSub.subscribe(
      channelOf(documentId),
      (commentId) => serially(commentId, async () => [await comments.findOneBy({ id: commentId, documentId })].filter((comment) => comment !== null)),
      {
        onGap: () =>
          serially('after a gap', () =>
            comments.find({ where: { documentId, createdAt: MoreThanOrEqual(delivered.recheckFrom()) }, order: { createdAt: 'ASC', id: 'ASC' }, take: GAP_READ_LIMIT }),
          ),
      },
    );
    await unsubscribe;
    return queue;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pubSub.close();
  }
}
