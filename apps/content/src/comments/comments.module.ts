import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { CommentsResolver, DocumentCommentsResolver } from './comments.resolver';
import { CommentsService } from './comments.service';

@Module({ imports: [DocumentsModule], providers: [CommentsService, CommentsResolver, DocumentCommentsResolver] })
export class CommentsModule {}
