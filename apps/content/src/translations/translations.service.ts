import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { DocumentTranslationDeleted, DocumentTranslationSaved, OutboxWriter } from '@multipult/events';
import { BadUserInputError, NotFoundError, groupByKeys } from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { searchConfigFor } from '../documents/document.entity';
import { DocumentsService } from '../documents/documents.service';
import { DeleteTranslationInput, SaveTranslationInput } from './dto';
import { DocumentTranslation } from './translation.entity';

/** Translations are edited by whoever may edit their document, in its transaction and lock. */
@Injectable()
export class TranslationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly documents: DocumentsService,
    private readonly outbox: OutboxWriter,
  ) {}

  async save(principal: AuthPrincipal, input: SaveTranslationInput): Promise<DocumentTranslation> {
    return this.documents.changeDocument(principal, input.documentId, async (manager, document) => {
      if (input.language === document.language) {
        throw BadUserInputError.field('language', 'errors.translation_same_language', { language: document.language });
      }
      if (input.translatorId && !(await manager.existsBy(Author, { id: input.translatorId, tenantId: document.tenantId }))) {
        throw new NotFoundError('Author');
      }
      const existing = await manager.findOneBy(DocumentTranslation, { documentId: document.id, language: input.language });
      const translation = existing ?? manager.create(DocumentTranslation, { documentId: document.id, tenantId: document.tenantId });
      Object.assign(translation, {
        language: input.language,
        searchConfig: searchConfigFor(input.language),
        title: input.title.trim(),
        summary: input.summary?.trim() ?? existing?.summary ?? '',
        body: input.body,
        translatorId: input.translatorId === undefined ? (existing?.translatorId ?? null) : input.translatorId,
        createdBy: existing?.createdBy ?? principal.userId,
        updatedBy: principal.userId,
      });
      const saved = await manager.save(translation);
      await this.outbox.enqueue(manager, DocumentTranslationSaved, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: { ...this.facts(saved), created: !existing },
      });
      return saved;
    });
  }

  async delete(principal: AuthPrincipal, input: DeleteTranslationInput): Promise<string> {
    return this.documents.changeDocument(principal, input.documentId, async (manager, document) => {
      const translation = await manager.findOneBy(DocumentTranslation, { documentId: document.id, language: input.language });
      if (!translation) throw new NotFoundError('DocumentTranslation');
      await manager.delete(DocumentTranslation, { id: translation.id });
      await this.outbox.enqueue(manager, DocumentTranslationDeleted, {
        aggregateId: document.id,
        tenantId: document.tenantId,
        actorId: principal.userId,
        payload: this.facts(translation),
      });
      return translation.id;
    });
  }

  /** Translations of each document (ordered by language), for a DataLoader; callers have checked the documents are readable. */
  async ofDocuments(documentIds: readonly string[]): Promise<DocumentTranslation[][]> {
    const rows = await this.dataSource
      .getRepository(DocumentTranslation)
      .find({ where: { documentId: In([...documentIds]) }, order: { language: 'ASC' } });
    return groupByKeys(documentIds, rows, (row) => row.documentId);
  }

  async byIds(ids: readonly string[]): Promise<DocumentTranslation[]> {
    return ids.length ? this.dataSource.getRepository(DocumentTranslation).findBy({ id: In([...ids]) }) : [];
  }

  private facts(translation: DocumentTranslation) {
    return {
      documentId: translation.documentId,
      translationId: translation.id,
      language: translation.language,
      title: translation.title,
      translatorId: translation.translatorId,
    };
  }
}
