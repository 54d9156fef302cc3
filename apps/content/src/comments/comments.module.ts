import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { UsersModule } from '../users/users.module';
import { CommentsResolver, DocumentCommentsResolver } from './comments.resolver';
import { CommentsService } from './comments.service';

@Module({ imports: [DocumentsModule, UsersModule], providers: [CommentsService, CommentsResolver, DocumentCommentsResolver] })
export class CommentsModule {}
