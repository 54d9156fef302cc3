import { Injectable, OnModuleInit } from '@nestjs/common';
import { FileDownloads, FileLinks } from '@multipult/files';
import { AuditFilter, AuditLog, PinnedAuditExport } from './audit-log.service';
import type { AuditLogExport } from './dto';

export const AUDIT_EXPORT_KIND = 'audit-log';

/** The pinned export inside the signed link; dates as ISO strings. */
type PinnedResource = Omit<PinnedAuditExport, 'filter'> & { filter: Omit<AuditFilter, 'from' | 'to'> & { from?: string; to?: string } };

const revive = (resource: string): PinnedAuditExport => {
  const pinned = JSON.parse(resource) as PinnedResource;
  const { from, to, ...rest } = pinned.filter;
  return { ...pinned, filter: { ...rest, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) } };
};

/**
 * Audit CSV exports as download links. The link pins the rows when it is made (filter, newest id,
 * count), so the file holds exactly what rowCount announced however late within its lifetime it is
 * fetched; the tenant export's filter carries its tenant inside the signed link.
 */
@Injectable()
export class AuditExports implements OnModuleInit {
  constructor(
    private readonly audit: AuditLog,
    private readonly links: FileLinks,
    private readonly downloads: FileDownloads,
  ) {}

  onModuleInit(): void {
    this.downloads.register(AUDIT_EXPORT_KIND, async (link) => ({
      contentType: 'text/csv; charset=utf-8',
      body: this.audit.csvStream(revive(link.resource)),
    }));
  }

  async create(filter: AuditFilter, limit: number, userId: string): Promise<AuditLogExport> {
    const pinned = await this.audit.pinExport(filter, limit);
    const filename = `audit-log-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`;
    const link = await this.links.create(AUDIT_EXPORT_KIND, JSON.stringify(pinned), filename, { userId });
    return { url: link.url, expiresAt: link.expiresAt, rowCount: pinned.rowCount, truncated: pinned.truncated };
  }
}
