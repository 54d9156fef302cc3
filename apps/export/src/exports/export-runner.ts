import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { DataSource, In } from 'typeorm';
import { ZipFile } from 'yazl';
import { InjectConfig } from '@multipult/config';
import { ExportCompleted, ExportFailed, ExportProgressed, OutboxWriter } from '@multipult/events';
import { JobQueue, RunningJob } from '@multipult/jobs';
import { RenderContext, RenderDocument, TemplateDefinition, Watermark, renderPdf, renderPdfStream } from '@multipult/pdf';
import type { ExportConfig } from '../config';
import { NotFoundError } from '@multipult/graphql';
import { ContentReader, ContentUnavailableError, ExportComment, ExporterGoneError } from '../content/content-reader';
import { JiraConnectionsService } from '../jira/jira-connections.service';
import { JiraExportError, JiraIssueExporter } from '../jira/jira-issue-exporter';
import { DocumentImages } from '../images/document-images';
import { FILE_STORAGE, FileStorage } from '../storage/file-storage';
import { TemplatesService } from '../templates/templates.service';
import { ExportFeed } from './export-feed';
import { ExportItem, ExportItemStatus } from './export-item.entity';
import { EXPORT_QUEUE, ExportJob } from './export-queue';
import { Export, ExportFormat } from './export.entity';
import { fileNameFor } from './file-names';

const READ_BATCH = 25;
const JIRA_BATCH = 50;
const PROGRESS_WRITE_INTERVAL_MS = 500;
const PROGRESS_EVENT_INTERVAL_MS = 1000;

/** Stops an attempt for good: retrying would fail the same way. */
class PermanentExportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class ExportCancelledError extends Error {}

/**
 * Runs exports as durable jobs (libs/jobs): any replica picks one up, at most
 * EXPORT_TENANT_CONCURRENCY per tenant across replicas; a transient failure (content or JIRA
 * unavailable) is retried with backoff, the last failure marks the export FAILED and leaves the
 * job in the dead-letter queue; a worker that dies mid-way has its job retried after the attempt
 * timeout, from the items' recorded state.
 */
@Injectable()
export class ExportRunner implements OnModuleInit {
  private readonly logger = new Logger(ExportRunner.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    private readonly outbox: OutboxWriter,
    private readonly content: ContentReader,
    private readonly templates: TemplatesService,
    private readonly feed: ExportFeed,
    private readonly jiraExporter: JiraIssueExporter,
    private readonly images: DocumentImages,
    private readonly jiraConnections: JiraConnectionsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.define<ExportJob>({
      name: EXPORT_QUEUE,
      policy: 'exclusive',
      retryLimit: this.config.EXPORT_RETRY_LIMIT,
      retryDelaySeconds: this.config.EXPORT_RETRY_DELAY_SECONDS,
      retryBackoff: true,
      expireInSeconds: this.config.EXPORT_ATTEMPT_TIMEOUT_SECONDS,
      // An attempt may run for its whole timeout (30 minutes by default): one orphaned by a dead replica
      // or a database restart is retried within a minute or two instead.
      heartbeat: true,
      concurrency: this.config.EXPORT_CONCURRENCY,
      concurrencyPerKey: this.config.EXPORT_TENANT_CONCURRENCY,
      handler: (job) => this.run(job),
    });
  }

  private async run(job: RunningJob<ExportJob>): Promise<void> {
    const [[claimed]]: [Export[], number] = await this.dataSource.query(
      `UPDATE exports SET status = 'RUNNING', attempts = attempts + 1, started_at = coalesce(started_at, now()),
         progress_message = 'Started', updated_at = now()
       WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
      [job.data.exportId],
    );
    if (!claimed) return;
    const record = await this.dataSource.getRepository(Export).findOneByOrFail({ id: job.data.exportId });
    await this.feed.changed(record.id);
    const progress = new ProgressReporter(this, record, job);
    try {
      if (record.format === ExportFormat.JIRA) return await this.succeed(record, await this.jira(record, progress, job));
      const fileName = fileNameFor(record);
      const key = `${record.tenantId}/${record.id}/${fileName}`;
      const stored = await this.storage.write(key, record.format === ExportFormat.ZIP ? await this.zip(record, progress, job.signal) : await this.pdf(record, progress, job.signal));
      await this.succeed(record, { key, fileName, ...stored });
    } catch (error) {
      await this.failed(record, job, error);
    }
  }

  /**
   * An issue per document through the export's JIRA connection, 50 items a batch (JIRA's bulk
   * limit). Items done in an earlier attempt are not sent again, and the exporter finds issues it
   * created before by their label, so a retried or resumed job never makes a duplicate.
   */
  private async jira(record: Export, progress: ProgressReporter, job: RunningJob<ExportJob>): Promise<{ failed: number }> {
    const { signal } = job;
    const repository = this.dataSource.getRepository(ExportItem);
    let done = 0;
    let failed = 0;
    const { exportComments } = await this.jiraConnections.get(record.tenantId, record.jiraConnectionId as string);
    const load = async (position: number) => {
      const items = await repository.find({ where: { exportId: record.id, position: In(range(position, Math.min(position + JIRA_BATCH, record.itemCount))) }, order: { position: 'ASC' } });
      const pending = items.filter((item) => item.status !== ExportItemStatus.DONE);
      const documentIds = pending.map((item) => item.documentId);
      const [documents, comments] = await Promise.all([
        this.content.read(record.ownerId, record.tenantId, documentIds),
        exportComments ? this.content.comments(record.ownerId, record.tenantId, documentIds) : new Map<string, ExportComment[]>(),
      ]);
      return { items, pending, documents, comments };
    };
    let next = load(0);
    for (let position = 0; position < record.itemCount; position += JIRA_BATCH) {
      if (signal.aborted) throw new ExportCancelledError('cancelled');
      const { items, pending, documents, comments } = await next;
      // The next batch is read from content while JIRA takes this one: JIRA's rate limit sets the pace.
      next = position + JIRA_BATCH < record.itemCount ? load(position + JIRA_BATCH) : Promise.resolve({ items: [], pending: [], documents: new Map(), comments: new Map() });
      next.catch(() => undefined);
      const skipped = pending.filter((item) => !documents.has(item.documentId));
      if (skipped.length) await repository.update({ id: In(skipped.map((item) => item.id)) }, { status: ExportItemStatus.SKIPPED, error: 'no longer readable' });
      const sendable = pending.filter((item) => documents.has(item.documentId));
      const results = sendable.length
        ? await this.jiraExporter.exportItems(
            record.jiraConnectionId as string,
            record.tenantId,
            sendable.map((item) => {
              const document = documents.get(item.documentId) as NonNullable<ReturnType<typeof documents.get>>;
              return {
                exportItemId: item.id,
                documentId: document.id,
                title: document.title,
                summary: document.summary,
                markdown: document.body,
                comments: comments.get(document.id),
              };
            }),
            // No earlier attempt can have sent anything: skip the lookup of existing issues.
            { signal, neverSent: job.attempt === 0 },
          )
        : [];
      const created = results.filter((result) => !result.error);
      const refused = results.filter((result) => result.error);
      failed += refused.length;
      await this.dataSource.query(
        `UPDATE export_items AS item SET status = 'DONE', jira_issue_key = sent.issue_key, error = NULL
         FROM unnest($1::uuid[], $2::text[]) AS sent(id, issue_key) WHERE item.id = sent.id`,
        [created.map((result) => result.exportItemId), created.map((result) => result.issueKey)],
      );
      await this.dataSource.query(
        `UPDATE export_items AS item SET status = 'FAILED', error = refused.error
         FROM unnest($1::uuid[], $2::text[]) AS refused(id, error) WHERE item.id = refused.id`,
        [refused.map((result) => result.exportItemId), refused.map((result) => result.error?.messages.join('; ').slice(0, 1000) ?? '')],
      );
      done += items.length;
      await progress.report(done, `Sent ${done} of ${record.itemCount} to JIRA`);
    }
    return { failed };
  }

  /** One PDF of every document, in order, read from content a batch at a time while it renders. */
  private async pdf(record: Export, progress: ProgressReporter, signal: AbortSignal): Promise<Readable> {
    const [template, branding, context] = await Promise.all([this.templateOf(record), this.templates.brandingFor(record.tenantId), this.contextOf(record)]);
    // A failed render fails the write too, so storage drops the partial file.
    return renderPdfStream({
      documents: this.documents(record, progress, signal),
      documentCount: record.itemCount,
      template,
      branding,
      watermark: this.watermarkOf(record),
      context,
      loadImage: this.images.loaderFor(record.id),
    });
  }

  /**
   * A ZIP of one PDF per document plus manifest.json (name, document, SHA-256 and size of each).
   * Entries are stored, not deflated (PDF streams are compressed already), and each PDF streams
   * into the archive as it renders: memory holds one document, not the export.
   */
  private async zip(record: Export, progress: ProgressReporter, signal: AbortSignal): Promise<Readable> {
    const [template, branding, context] = await Promise.all([this.templateOf(record), this.templates.brandingFor(record.tenantId), this.contextOf(record)]);
    const zip = new ZipFile();
    const loadImage = this.images.loaderFor(record.id);
    const manifest: { name: string; documentId: string; title: string; sha256: string; bytes: number }[] = [];
    const fill = async () => {
      for await (const document of this.documents(record, progress, signal)) {
        const name = `${String(manifest.length + 1).padStart(4, '0')}-${fileNameFor({ title: document.title, id: document.id, format: ExportFormat.PDF })}`;
        const hash = createHash('sha256');
        let bytes = 0;
        // Hashes the bytes on their way into the archive.
        const entry = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            bytes += chunk.length;
            callback(null, chunk);
          },
        });
        const consumed = new Promise<void>((resolve, reject) => {
          entry.on('end', resolve);
          entry.on('error', reject);
        });
        zip.addReadStream(entry, name, { compress: false });
        await renderPdf(
          { documents: [document], documentCount: 1, template, branding, watermark: this.watermarkOf(record), context: { ...context, title: document.title, documentCount: 1 }, loadImage },
          entry,
        );
        await consumed;
        const sha256 = hash.digest('hex');
        manifest.push({ name, documentId: document.id, title: document.title, sha256, bytes });
        await this.dataSource.getRepository(ExportItem).update({ exportId: record.id, documentId: document.id }, { sha256 });
      }
      zip.addBuffer(Buffer.from(JSON.stringify({ export: { id: record.id, title: record.title, createdAt: record.createdAt }, files: manifest }, null, 2)), 'manifest.json');
      zip.end();
    };
    const output = new PassThrough();
    // Storage may start reading only after the fill has failed: the error must wait on the stream
    // (`errored`, which its pipeline reports) instead of being an 'error' event nobody handles.
    output.on('error', () => undefined);
    zip.outputStream.pipe(output);
    fill().catch((error: Error) => output.destroy(error));
    return output;
  }

  /**
   * The export's documents in order, read as its owner; a document deleted or no longer readable
   * since the export was asked for is skipped and says so. Stops on cancellation.
   */
  private async *documents(record: Export, progress: ProgressReporter, signal: AbortSignal): AsyncGenerator<RenderDocument> {
    const repository = this.dataSource.getRepository(ExportItem);
    let done = 0;
    for (let position = 0; position < record.itemCount; position += READ_BATCH) {
      const items = await repository.find({ where: { exportId: record.id, position: In(range(position, Math.min(position + READ_BATCH, record.itemCount))) }, order: { position: 'ASC' } });
      const documents = await this.content.read(record.ownerId, record.tenantId, items.map((item) => item.documentId));
      const skipped = items.filter((item) => !documents.has(item.documentId));
      if (skipped.length) {
        await repository.update({ id: In(skipped.map((item) => item.id)) }, { status: ExportItemStatus.SKIPPED, error: 'no longer readable' });
      }
      const rendered: string[] = [];
      for (const item of items) {
        if (signal.aborted) throw new ExportCancelledError('cancelled');
        const document = documents.get(item.documentId);
        done += 1;
        if (!document) continue;
        yield { id: document.id, title: document.title, summary: document.summary, body: document.body, language: document.language, updatedAt: new Date(document.updatedAt) };
        rendered.push(item.id);
        await progress.report(done, `Rendered ${done} of ${record.itemCount}`);
      }
      // One statement a batch: the items rendered (a retried attempt renders them again anyway).
      if (rendered.length) await repository.update({ id: In(rendered) }, { status: ExportItemStatus.DONE, error: null });
    }
  }

  private async templateOf(record: Export): Promise<TemplateDefinition> {
    const version = record.templateVersionId ? await this.templates.versionById(record.tenantId, record.templateVersionId) : null;
    if (record.templateVersionId && !version) throw new PermanentExportError('template_missing', 'the template version is gone');
    return this.templates.definitionOf(version);
  }

  private async contextOf(record: Export): Promise<RenderContext> {
    const owner = await this.content.userOf(record.ownerId, record.tenantId);
    const branding = await this.templates.branding(record.tenantId);
    return { title: record.title, tenantName: branding?.companyName ?? '', exportedBy: owner.displayName, exportedAt: record.createdAt, documentCount: record.itemCount };
  }

  private watermarkOf(record: Export): Watermark | undefined {
    if (!record.watermark) return undefined;
    const { text, image, opacity, rotationDegrees } = record.watermark;
    return { text, image: image ? Buffer.from(image, 'base64') : undefined, opacity, rotationDegrees };
  }

  private async succeed(record: Export, outcome: { key: string; fileName: string; sizeBytes: number; sha256: string } | { failed: number }): Promise<void> {
    const file = 'key' in outcome ? outcome : null;
    const message = 'failed' in outcome && outcome.failed ? `Done; JIRA refused ${outcome.failed} of ${record.itemCount} documents (see items)` : 'Ready';
    const expiresAt = file ? new Date(Date.now() + this.config.EXPORT_FILE_TTL_HOURS * 3_600_000) : null;
    const finished = await this.dataSource.transaction(async (manager) => {
      const [rows]: [{ id: string }[], number] = await manager.query(
        `UPDATE exports SET status = 'SUCCEEDED', progress = 100, progress_message = $7, done_count = item_count,
           file_key = $2, file_name = $3, file_size = $4, file_sha256 = $5, expires_at = $6, finished_at = now(), updated_at = now(), error_code = NULL
         WHERE id = $1 AND status = 'RUNNING' RETURNING id`,
        [record.id, file?.key ?? null, file?.fileName ?? null, file?.sizeBytes ?? null, file?.sha256 ?? null, expiresAt, message],
      );
      if (!rows.length) return false;
      await this.outbox.enqueue(manager, ExportCompleted, {
        aggregateId: record.id,
        tenantId: record.tenantId,
        actorId: record.ownerId,
        payload: {
          exportId: record.id,
          ownerId: record.ownerId,
          format: record.format,
          title: record.title,
          itemCount: record.itemCount,
          fileName: file?.fileName ?? null,
          sizeBytes: file?.sizeBytes ?? null,
          expiresAt: expiresAt?.toISOString() ?? null,
        },
      });
      return true;
    });
    // Cancelled while the last bytes were written: nothing of it is kept.
    if (!finished && file) await this.storage.delete(file.key);
    await this.feed.changed(record.id);
    this.logger.log({ exportId: record.id, bytes: file?.sizeBytes, kept: finished }, 'export finished');
  }

  private async failed(record: Export, job: RunningJob<ExportJob>, error: unknown): Promise<void> {
    if (error instanceof ExportCancelledError || job.signal.aborted || (error as Error).name === 'AbortError') {
      this.logger.log({ exportId: record.id }, 'export stopped: cancelled');
      return;
    }
    const permanent =
      error instanceof PermanentExportError ||
      error instanceof ExporterGoneError ||
      error instanceof NotFoundError ||
      (error instanceof ContentUnavailableError && !error.transient) ||
      (error instanceof JiraExportError && !TRANSIENT_JIRA_ERRORS.has(error.code));
    const lastAttempt = job.attempt >= this.config.EXPORT_RETRY_LIMIT;
    const message = (error as Error).message;
    if (!permanent && !lastAttempt) {
      await this.dataSource.query(`UPDATE exports SET progress_message = $2, updated_at = now() WHERE id = $1 AND status = 'RUNNING'`, [
        record.id,
        `Retrying after a temporary failure (attempt ${job.attempt + 1})`,
      ]);
      await this.feed.changed(record.id);
      this.logger.warn({ exportId: record.id, attempt: job.attempt, reason: message }, 'export attempt failed; will retry');
      throw error;
    }
    const code = errorCodeOf(error);
    await this.dataSource.transaction(async (manager) => {
      const [rows]: [{ attempts: number }[], number] = await manager.query(
        `UPDATE exports SET status = 'FAILED', error_code = $2, progress_message = $3, finished_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'RUNNING' RETURNING attempts`,
        [record.id, code, 'Failed'],
      );
      if (!rows.length) return;
      await this.outbox.enqueue(manager, ExportFailed, {
        aggregateId: record.id,
        tenantId: record.tenantId,
        actorId: record.ownerId,
        payload: { exportId: record.id, ownerId: record.ownerId, format: record.format, title: record.title, errorCode: code, attempts: rows[0].attempts },
      });
    });
    await this.feed.changed(record.id);
    this.logger.error({ exportId: record.id, code, reason: message }, 'export failed');
    // Permanent failures are done; the last transient one goes on to the dead-letter queue.
    if (!permanent) throw error;
  }

  /** Progress of a running export: the row (sampled), the job, live subscribers and sampled events. */
  async recordProgress(record: Export, done: number, percent: number, message: string, withEvent: boolean): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE exports SET progress = $2, done_count = $3, progress_message = $4, updated_at = now() WHERE id = $1 AND status = 'RUNNING'`, [
        record.id,
        percent,
        done,
        message,
      ]);
      if (withEvent) {
        await this.outbox.enqueue(manager, ExportProgressed, {
          aggregateId: record.id,
          tenantId: record.tenantId,
          actorId: record.ownerId,
          payload: { exportId: record.id, ownerId: record.ownerId, format: record.format, title: record.title, progress: percent, message },
        });
      }
    });
    await this.feed.changed(record.id);
  }
}

/** Turns per-document ticks into sampled writes: the row at most every 500 ms, an event at most every second. */
class ProgressReporter {
  private lastWrite = 0;
  private lastEvent = 0;

  constructor(
    private readonly runner: ExportRunner,
    private readonly record: Export,
    private readonly job: RunningJob<ExportJob>,
  ) {}

  async report(done: number, message: string): Promise<void> {
    const now = Date.now();
    const last = done === this.record.itemCount;
    if (!last && now - this.lastWrite < PROGRESS_WRITE_INTERVAL_MS) return;
    // The last 5 % are for writing the file.
    const percent = Math.min(95, Math.floor((done / this.record.itemCount) * 95));
    const withEvent = last || now - this.lastEvent >= PROGRESS_EVENT_INTERVAL_MS;
    this.lastWrite = now;
    if (withEvent) this.lastEvent = now;
    await this.runner.recordProgress(this.record, done, percent, message, withEvent);
    await this.job.reportProgress(percent, message);
  }
}

const TRANSIENT_JIRA_ERRORS = new Set(['JIRA_UNAVAILABLE', 'JIRA_RATE_LIMITED']);

/** The stable code an export records for why it failed. */
function errorCodeOf(error: unknown): string {
  if (error instanceof PermanentExportError) return error.code;
  if (error instanceof ExporterGoneError) return 'exporter_gone';
  if (error instanceof ContentUnavailableError) return 'content_unavailable';
  if (error instanceof JiraExportError) return error.code.toLowerCase();
  if (error instanceof NotFoundError) return 'jira_connection_missing';
  return 'internal';
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);
