import { Module } from '@nestjs/common';
import { DocumentsResolver, UserDocumentsResolver } from './documents.resolver';
import { DocumentsService } from './documents.service';

@Module({
  providers: [DocumentsService, DocumentsResolver, UserDocumentsResolver],
  exports: [DocumentsService],
})
export class DocumentsModule {}
