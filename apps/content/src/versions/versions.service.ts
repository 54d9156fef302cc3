import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { ForbiddenError, NotFoundError } from '@multipult/graphql';
import { canEdit } from '../documents/document-access';
import { DocumentVersion } from '../documents/document-version.entity';
import { Document } from '../documents/document.entity';
import { DocumentsService } from '../documents/documents.service';
import { BlameLine, DiffLineKind, DocumentDiff, DocumentDiffInput, RestoreDocumentVersionInput } from './dto';
import { blame, lineDiff } from './line-history';

const COMPARED_FIELDS = ['title', 'summary'] as const;

@Injectable()
export class VersionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly documents: DocumentsService,
  ) {}

  async diff(principal: AuthPrincipal, input: DocumentDiffInput): Promise<DocumentDiff> {
    await this.editableDocument(principal, input.documentId);
    const versions = await this.dataSource.getRepository(DocumentVersion).findBy({
      documentId: input.documentId,
      version: In([input.fromVersion, input.toVersion]),
    });
    const from = versions.find((v) => v.version === input.fromVersion);
    const to = versions.find((v) => v.version === input.toVersion);
    if (!from || !to) throw new NotFoundError('DocumentVersion');
    return {
      fromVersion: from.version,
      toVersion: to.version,
      fieldChanges: COMPARED_FIELDS.filter((field) => from[field] !== to[field]).map((field) => ({
        field,
        from: from[field],
        to: to[field],
      })),
      bodyLines: lineDiff(from.body, to.body).map((line) => ({ ...line, kind: line.kind as DiffLineKind })),
    };
  }

  async blame(principal: AuthPrincipal, documentId: string): Promise<BlameLine[]> {
    await this.editableDocument(principal, documentId);
    const versions = await this.dataSource
      .getRepository(DocumentVersion)
      .find({ where: { documentId }, order: { version: 'ASC' } });
    return blame(
      versions.map((v) => ({ version: v.version, body: v.body, origin: { changedBy: v.changedBy, changedAt: v.createdAt } })),
    ).map((line) => ({
      lineNumber: line.lineNumber,
      text: line.text,
      version: line.version,
      changedBy: { id: line.origin.changedBy },
      changedAt: line.origin.changedAt,
    }));
  }

  /** Makes an old version's text current again, as a new version (history is never rewritten). */
  async restore(principal: AuthPrincipal, input: RestoreDocumentVersionInput): Promise<Document> {
    await this.editableDocument(principal, input.documentId);
    const old = await this.dataSource
      .getRepository(DocumentVersion)
      .findOneBy({ documentId: input.documentId, version: input.version });
    if (!old) throw new NotFoundError('DocumentVersion');
    return this.documents.update(principal, {
      id: input.documentId,
      expectedVersion: input.expectedVersion,
      title: old.title,
      summary: old.summary,
      body: old.body,
    });
  }

  private async editableDocument(principal: AuthPrincipal, documentId: string): Promise<Document> {
    const document = await this.documents.getReadable(principal, documentId);
    if (!canEdit(principal, document)) throw new ForbiddenError();
    return document;
  }
}
