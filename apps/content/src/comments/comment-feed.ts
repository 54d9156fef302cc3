import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { AsyncQueue } from '@multipult/realtime';
import { PUB_SUB, PubSub } from '@multipult/redis';
import { DocumentsService } from '../documents/documents.service';
import { Comment } from './comment.entity';

const channelOf = (documentId: string) => `content:comments:${documentId}`;

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

  /** Comments added to a document from now on; NOT_FOUND when the caller cannot read it. */
  async commentsOf(principal: AuthPrincipal, documentId: string): Promise<AsyncQueue<Comment>> {
    await this.documents.getReadable(principal, documentId);
    let delivery = Promise.resolve();
    const queue: AsyncQueue<Comment> = new AsyncQueue(() => void unsubscribe.then((stop) => stop()));
    const unsubscribe = this.pubSub.subscribe(channelOf(documentId), (commentId) => {
      // In arrival order: each comment is read and checked after the one before it.
      delivery = delivery.then(async () => {
        try {
          const comment = await this.dataSource.getRepository(Comment).findOneBy({ id: commentId, documentId });
          const readable = await this.documents.getReadable(principal, documentId).then(
            () => true,
            () => false,
          );
          if (comment && readable) queue.push(comment);
        } catch (error) {
          this.logger.warn(`Live comment ${commentId}: ${(error as Error).message}`);
        }
      });
    });
    await unsubscribe;
    return queue;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pubSub.close();
  }
}
