import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { AuthPrincipal, hasPermission } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { ExportCancelled, ExportRequested, OutboxWriter } from '@multipult/events';
import { AppError, BadUserInputError, Connection, ConflictError, ErrorCode, ForbiddenError, KeysetOrder, NotFoundError, byKeys, paginate } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import type { ExportConfig } from '../config';
import { ContentReader, ContentUnavailableError, DocumentSelection, ExporterGoneError } from '../content/content-reader';
import { JiraConnectionsService } from '../jira/jira-connections.service';
import { TemplatesService } from '../templates/templates.service';
import { ExportsArgs, RequestExportInput } from './dto';
import { ExportFeed } from './export-feed';
import { ExportItem, ExportItemStatus } from './export-item.entity';
import { EXPORT_QUEUE, ExportJob } from './export-queue';
import { Export, ExportFormat, ExportStatus, WatermarkSettings } from './export.entity';

const NEWEST_FIRST = new KeysetOrder({
  connection: 'export.exports',
  columns: [
    { expression: 'row.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

const ITEM_INSERT_BATCH = 500;

/** Export administrators see and manage every export of the tenant; members their own. */
export const isExportAdmin = (principal: Pick<AuthPrincipal, 'permissions'>) => hasPermission(principal.permissions, 'export:templates');

export interface ExportRequester {
  tenantId: string;
  userId: string;
  scheduleId?: string;
}

@Injectable()
export class ExportsService {
  private readonly logger = new Logger(ExportsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    private readonly outbox: OutboxWriter,
    private readonly jobs: JobQueue,
    private readonly content: ContentReader,
    private readonly templates: TemplatesService,
    private readonly feed: ExportFeed,
    private readonly jiraConnections: JiraConnectionsService,
  ) {}

  /**
   * Resolves the selection as the requester (content's read rules decide what is in it), then
   * writes the export, its items, export.requested and the job in one transaction.
   */
  async request(requester: ExportRequester, input: RequestExportInput): Promise<Export> {
    const selection = this.selectionOf(input);
    if (input.format === ExportFormat.JIRA && !input.jiraConnectionId) {
      throw BadUserInputError.field('input.jiraConnectionId', 'errors.export_jira_connection_required');
    }
    if (input.format === ExportFormat.JIRA) await this.requireJiraConnection(requester.tenantId, input.jiraConnectionId as string);
    const templateVersion = input.templateId ? await this.templates.version(requester.tenantId, input.templateId, input.templateVersion) : null;
    const watermark = this.watermarkOf(input);
    const { documents, missing } = await this.resolveSelection(requester, selection);
    if (missing.length) {
      throw BadUserInputError.field('input.selection.documentIds', 'errors.export_documents_unreadable', { count: missing.length });
    }
    if (!documents.length) throw BadUserInputError.field('input.selection', 'errors.export_nothing_selected');
    if (documents.length > this.config.EXPORT_MAX_DOCUMENTS) {
      throw BadUserInputError.field('input.selection', 'errors.export_too_many_documents', { max: this.config.EXPORT_MAX_DOCUMENTS });
    }
    const title = input.title?.trim() || (documents.length === 1 ? documents[0].title : `Export of ${documents.length} documents`);
    const created = await this.dataSource.transaction(async (manager) => {
      const row = await manager.save(
        manager.create(Export, {
          tenantId: requester.tenantId,
          ownerId: requester.userId,
          title,
          format: input.format,
          status: ExportStatus.QUEUED,
          progress: 0,
          progressMessage: 'Queued',
          selection,
          templateVersionId: templateVersion?.id ?? null,
          watermark,
          recipientWatermark: input.format !== ExportFormat.JIRA && (input.recipientWatermark ?? false),
          jiraConnectionId: input.jiraConnectionId ?? null,
          itemCount: documents.length,
          doneCount: 0,
          jobId: null,
          scheduleId: requester.scheduleId ?? null,
          attempts: 0,
        }),
      );
      for (let start = 0; start < documents.length; start += ITEM_INSERT_BATCH) {
        await manager.insert(
          ExportItem,
          documents.slice(start, start + ITEM_INSERT_BATCH).map((document, index) => ({
            exportId: row.id,
            tenantId: requester.tenantId,
            position: start + index,
            documentId: document.id,
            title: document.title,
            status: ExportItemStatus.PENDING,
          })),
        );
      }
      await this.outbox.enqueue(manager, ExportRequested, {
        aggregateId: row.id,
        tenantId: requester.tenantId,
        actorId: requester.userId,
        payload: { exportId: row.id, ownerId: requester.userId, format: row.format, title, itemCount: documents.length, scheduleId: row.scheduleId },
      });
      row.jobId = await this.jobs.enqueue<ExportJob>(EXPORT_QUEUE, { exportId: row.id }, { tx: manager, singletonKey: row.id, concurrencyKey: requester.tenantId });
      await manager.update(Export, { id: row.id }, { jobId: row.jobId });
      return row;
    });
    this.logger.log({ exportId: created.id, tenantId: created.tenantId, format: created.format, items: created.itemCount }, 'export requested');
    return created;
  }

  /** Stops a queued or running export; its worker stops at the next document and keeps nothing. */
  async cancel(principal: AuthPrincipal, tenantId: string, id: string): Promise<Export> {
    const target = await this.visible(principal, tenantId, id);
    const cancelled = await this.dataSource.transaction(async (manager) => {
      const [rows]: [Export[], number] = await manager.query(
        `UPDATE exports SET status = 'CANCELLED', progress_message = 'Cancelled', finished_at = now(), updated_at = now()
         WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
        [target.id],
      );
      if (!rows.length) return false;
      await this.outbox.enqueue(manager, ExportCancelled, {
        aggregateId: target.id,
        tenantId,
        actorId: principal.userId,
        payload: { exportId: target.id, ownerId: target.ownerId, format: target.format, title: target.title, cancelledBy: principal.userId },
      });
      return true;
    });
    if (!cancelled) throw new ConflictError('errors.export_finished');
    if (target.jobId) await this.jobs.cancel(EXPORT_QUEUE, target.jobId);
    await this.feed.changed(target.id);
    this.logger.log({ exportId: target.id, by: principal.userId }, 'export cancelled');
    return this.get(tenantId, target.id);
  }

  /** The export when the caller may see it (its owner, or an export administrator); NOT_FOUND otherwise. */
  async visible(principal: AuthPrincipal, tenantId: string, id: string): Promise<Export> {
    const found = await this.dataSource.getRepository(Export).findOneBy({ id, tenantId });
    if (!found || (found.ownerId !== principal.userId && !isExportAdmin(principal))) throw new NotFoundError('Export');
    return found;
  }

  async get(tenantId: string, id: string): Promise<Export> {
    const found = await this.dataSource.getRepository(Export).findOneBy({ id, tenantId });
    if (!found) throw new NotFoundError('Export');
    return found;
  }

  async findVisibleByIds(principal: AuthPrincipal, tenantId: string, ids: readonly string[]): Promise<(Export | null)[]> {
    const rows = await this.dataSource.getRepository(Export).findBy({ tenantId, id: In([...ids]) });
    const visible = rows.filter((row) => row.ownerId === principal.userId || isExportAdmin(principal));
    return byKeys(ids, visible, (row) => row.id);
  }

  list(principal: AuthPrincipal, tenantId: string, args: ExportsArgs): Promise<Connection<Export>> {
    if (args.allMembers && !isExportAdmin(principal)) throw new ForbiddenError('errors.forbidden');
    const query = this.dataSource.getRepository(Export).createQueryBuilder('row').where('row.tenant_id = :tenantId', { tenantId });
    if (!args.allMembers) query.andWhere('row.owner_id = :ownerId', { ownerId: principal.userId });
    if (args.status) query.andWhere('row.status = :status', { status: args.status });
    const scope = `${tenantId}:${args.allMembers ? '*' : principal.userId}:${args.status ?? ''}`;
    return paginate(query, NEWEST_FIRST, args, { scope });
  }

  items(exportId: string, args: { first?: number; after?: string }): Promise<Connection<ExportItem>> {
    const query = this.dataSource.getRepository(ExportItem).createQueryBuilder('row').where('row.export_id = :exportId', { exportId });
    return paginate(query, IN_EXPORT_ORDER, args, { scope: exportId });
  }

  private selectionOf(input: RequestExportInput): DocumentSelection {
    const { documentIds, collectionId, search } = input.selection;
    const given = [documentIds, collectionId, search].filter((part) => part !== undefined && part !== null);
    if (given.length !== 1) throw BadUserInputError.field('input.selection', 'errors.export_selection_one');
    if (documentIds) {
      if (new Set(documentIds).size !== documentIds.length) throw BadUserInputError.field('input.selection.documentIds', 'errors.export_duplicate_documents');
      return { documentIds };
    }
    return collectionId ? { collectionId } : { search: { query: (search as { query: string }).query, languages: search?.languages } };
  }

  private watermarkOf(input: RequestExportInput): WatermarkSettings | null {
    if (!input.watermark) return null;
    const { text, imageBase64, opacity, rotationDegrees } = input.watermark;
    if (!text && !imageBase64) throw BadUserInputError.field('input.watermark', 'errors.export_watermark_empty');
    if (imageBase64) this.templates.imageFrom(imageBase64, 'input.watermark.imageBase64');
    return { text, image: imageBase64, opacity: opacity ?? 0.15, rotationDegrees: rotationDegrees ?? 45 };
  }

  private async resolveSelection(requester: ExportRequester, selection: DocumentSelection) {
    try {
      return await this.content.resolve(requester.userId, requester.tenantId, selection, this.config.EXPORT_MAX_DOCUMENTS);
    } catch (error) {
      if (error instanceof ExporterGoneError) throw new ForbiddenError('errors.forbidden');
      if (error instanceof ContentUnavailableError && !error.transient && selection.collectionId) throw new NotFoundError('Collection');
      if (error instanceof ContentUnavailableError) {
        this.logger.warn({ tenantId: requester.tenantId, reason: error.message }, 'export selection could not be read');
        throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'errors.export_content_unavailable');
      }
      throw error;
    }
  }

  private async requireJiraConnection(tenantId: string, connectionId: string): Promise<void> {
    await this.jiraConnections.get(tenantId, connectionId);
  }
}

const IN_EXPORT_ORDER = new KeysetOrder({
  connection: 'export.items',
  columns: [{ expression: 'row.position', type: 'integer', direction: 'ASC' }],
});

