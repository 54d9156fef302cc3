import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { CollectionsResolver } from './collections.resolver';
import { CollectionsService } from './collections.service';

@Module({ imports: [DocumentsModule], providers: [CollectionsService, CollectionsResolver] })
export class CollectionsModule {}
