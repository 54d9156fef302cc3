import { Module } from '@nestjs/common';
import { AuthorsModule } from '../authors/authors.module';
import { DocumentsModule } from '../documents/documents.module';
import { DocumentTranslationsResolver, TranslationFieldsResolver } from './translations.resolver';
import { TranslationsService } from './translations.service';

@Module({
  imports: [DocumentsModule, AuthorsModule],
  providers: [TranslationsService, DocumentTranslationsResolver, TranslationFieldsResolver],
  exports: [TranslationsService],
})
export class TranslationsModule {}
