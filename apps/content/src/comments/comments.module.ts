import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { UsersModule } from '../users/users.module';
import { CommentFeed } from './comment-feed';
import { CommentsResolver, DocumentCommentsResolver } from './comments.resolver';
import { CommentsService } from './comments.service';

/** Comments, and commentAdded over /graphql/ws (fed through the kit's Redis pub/sub). */
@Module({
  imports: [DocumentsModule, UsersModule],
  providers: [
    CommentFeed,
    CommentsService,
    CommentsResolver,
    DocumentCommentsResolver,
  ],
})
export class CommentsModule {}
