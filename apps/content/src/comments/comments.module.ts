import { Module } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import { PUB_SUB, createPubSub } from '@multipult/redis';
import type { ContentConfig } from '../config';
import { DocumentsModule } from '../documents/documents.module';
import { UsersModule } from '../users/users.module';
import { CommentFeed } from './comment-feed';
import { CommentsResolver, DocumentCommentsResolver } from './comments.resolver';
import { CommentsService } from './comments.service';

/** Comments, and commentAdded over /graphql/ws (fed through Redis pub/sub). */
@Module({
  imports: [DocumentsModule, UsersModule],
  providers: [
    { provide: PUB_SUB, inject: [APP_CONFIG], useFactory: (config: ContentConfig) => createPubSub(config) },
    CommentFeed,
    CommentsService,
    CommentsResolver,
    DocumentCommentsResolver,
  ],
})
export class CommentsModule {}
