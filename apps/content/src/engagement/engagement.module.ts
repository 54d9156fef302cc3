import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { EngagementResolver, UserBookmarksResolver } from './engagement.resolver';
import { EngagementService } from './engagement.service';

@Module({ imports: [DocumentsModule], providers: [EngagementService, EngagementResolver, UserBookmarksResolver] })
export class EngagementModule {}
