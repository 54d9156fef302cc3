import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { FileDownloads, FileLinks, VerifiedFileLink } from '@multipult/files';
import { NotFoundError } from '@multipult/graphql';
import { DataExport, DataExportStatus } from './dto';

export const DATA_EXPORT_KIND = 'data-export';

const DOWNLOADABLE = [DataExportStatus.READY, DataExportStatus.PARTIAL];

/**
 * The GDPR export document as a download. The link is made afresh on every read of the export,
 * for its owner only, and names them: a link for an export that has since been dropped (retention,
 * erasure) answers 404. The document is sent one service's part at a time, never as a whole.
 */
@Injectable()
export class DataExportFiles implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly links: FileLinks,
    private readonly downloads: FileDownloads,
  ) {}

  onModuleInit(): void {
    this.downloads.register(DATA_EXPORT_KIND, (link) => this.open(link));
  }

  /** The export with a download link when its document is assembled; the caller must be its owner. */
  async withLink(ownerId: string, dataExport: DataExport): Promise<DataExport> {
    if (!DOWNLOADABLE.includes(dataExport.status)) return dataExport;
    const { url, expiresAt } = await this.links.create(DATA_EXPORT_KIND, dataExport.id, `data-export-${dataExport.id}.json`, { userId: ownerId });
    return { ...dataExport, url, expiresAt };
  }

  private async open(link: VerifiedFileLink): Promise<{ contentType: string; body: Readable }> {
    if (!link.userId) throw new NotFoundError('DataExport');
    const [row]: { head: Record<string, unknown>; services: string[] }[] = await this.dataSource.query(
      `SELECT document - 'services' AS head, ARRAY(SELECT jsonb_object_keys(document->'services') ORDER BY 1) AS services
       FROM data_exports WHERE id = $1 AND user_id = $2 AND status = ANY($3::text[]) AND document IS NOT NULL`,
      [link.resource, link.userId, DOWNLOADABLE],
    );
    if (!row) throw new NotFoundError('DataExport');
    return { contentType: 'application/json; charset=utf-8', body: Readable.from(this.document(link.resource, link.userId, row.head, row.services)) };
  }

  /** `{ ...head, "services": { "<name>": <part>, ... } }`, reading one part per query. */
  private async *document(exportId: string, userId: string, head: Record<string, unknown>, services: string[]): AsyncGenerator<string> {
    const opening = JSON.stringify(head).slice(0, -1);
    yield `${opening}${opening === '{' ? '' : ','}"services":{`;
    for (const [index, service] of services.entries()) {
      const [part]: { data: string }[] = await this.dataSource.query(
        `SELECT (document->'services'->$3)::text AS data FROM data_exports WHERE id = $1 AND user_id = $2`,
        [exportId, userId, service],
      );
      if (!part) throw new NotFoundError('DataExport');
      yield `${index ? ',' : ''}${JSON.stringify(service)}:${part.data}`;
    }
    yield '}}';
  }
}
