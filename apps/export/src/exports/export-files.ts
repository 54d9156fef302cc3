import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { FileDownload, FileDownloads, FileLink, FileLinks, VerifiedFileLink } from '@multipult/files';
import { ConflictError, NotFoundError } from '@multipult/graphql';
import { stampRecipientWatermark } from '@multipult/pdf';
import { ContentReader } from '../content/content-reader';
import { FILE_STORAGE, FileMissingError, FileStorage } from '../storage/file-storage';
import { Export, ExportFormat, ExportStatus } from './export.entity';

const EXPORT_FILE_KIND = 'export';

/**
 * Downloads of produced files through the gateway's `/files/export/...`: a short-lived signed
 * link per request, naming the export and the user it was handed to; the file streams from
 * storage. With a per-recipient watermark, each PDF download is stamped with who downloaded it
 * and when, so a leaked copy names its source.
 */
@Injectable()
export class ExportFiles implements OnModuleInit {
  private readonly logger = new Logger(ExportFiles.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
    private readonly links: FileLinks,
    private readonly downloads: FileDownloads,
    private readonly content: ContentReader,
  ) {}

  onModuleInit(): void {
    this.downloads.register(EXPORT_FILE_KIND, (link) => this.open(link));
  }

  /** A link for one visible export whose file is ready and kept. */
  async link(record: Export, userId: string): Promise<FileLink> {
    if (record.status !== ExportStatus.SUCCEEDED || !record.fileKey || !record.fileName) throw new ConflictError('errors.export_not_ready');
    if (record.fileDeletedAt || (record.expiresAt && record.expiresAt <= new Date())) throw new ConflictError('errors.export_file_expired');
    return this.links.create(EXPORT_FILE_KIND, `${record.tenantId}/${record.id}`, record.fileName, { userId });
  }

  private async open(link: VerifiedFileLink): Promise<FileDownload> {
    const [tenantId, exportId] = link.resource.split('/');
    const record = await this.dataSource.getRepository(Export).findOneBy({ id: exportId, tenantId });
    if (!record?.fileKey || record.fileDeletedAt || (record.expiresAt && record.expiresAt <= new Date())) throw new NotFoundError('Export');
    const contentType = record.format === ExportFormat.ZIP ? 'application/zip' : 'application/pdf';
    let body: Readable;
    try {
      body = await this.storage.read(record.fileKey);
    } catch (error) {
      if (error instanceof FileMissingError) throw new NotFoundError('Export');
      throw error;
    }
    if (!record.recipientWatermark || record.format !== ExportFormat.PDF || !link.userId) return { contentType, body };
    const recipient = await this.content.userOf(link.userId, tenantId);
    const stamped = await stampRecipientWatermark(await readAll(body), {
      text: `Downloaded by ${recipient.displayName} <${recipient.email}> · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    });
    this.logger.log({ exportId, userId: link.userId }, 'export downloaded with a recipient watermark');
    return { contentType, body: Readable.from([stamped]) };
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
