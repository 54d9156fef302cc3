import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { JobQueue } from '@multipult/jobs';
import { retentionRan, retentionScheduled } from '@multipult/observability';
import type { ExportConfig } from '../config';
import { FILE_STORAGE, FileStorage } from '../storage/file-storage';
import { ExportFeed } from './export-feed';

const RETENTION_QUEUE = 'export.file-retention';
const BATCH = 100;

/** Deletes files past their expiry and says so on the export (fileDeletedAt), a batch at a time. */
@Injectable()
export class ExportRetention implements OnModuleInit {
  private readonly logger = new Logger(ExportRetention.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly jobs: JobQueue,
    private readonly feed: ExportFeed,
  ) {}

  async onModuleInit(): Promise<void> {
    retentionScheduled(RETENTION_QUEUE, this.config.EXPORT_RETENTION_CHECK_SECONDS);
    await this.jobs.defineRecurring({ name: RETENTION_QUEUE, everySeconds: this.config.EXPORT_RETENTION_CHECK_SECONDS, handler: () => this.deleteExpired() });
  }

  async deleteExpired(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const expired: { id: string; file_key: string }[] = await this.dataSource.query(
        `SELECT id, file_key FROM exports WHERE expires_at <= now() AND file_deleted_at IS NULL AND file_key IS NOT NULL ORDER BY expires_at LIMIT $1`,
        [BATCH],
      );
      for (const row of expired) {
        await this.storage.delete(row.file_key);
        await this.dataSource.query(`UPDATE exports SET file_deleted_at = now(), progress_message = 'File expired and deleted', updated_at = now() WHERE id = $1`, [row.id]);
        await this.feed.changed(row.id);
      }
      deleted += expired.length;
      if (expired.length < BATCH) break;
    }
    retentionRan(RETENTION_QUEUE, { files: deleted });
    if (deleted) this.logger.log({ deleted }, 'expired export files deleted');
    return deleted;
  }
}
