import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { FileDownloads, FileLink, FileLinks, VerifiedFileLink } from '@multipult/files';
import { NotFoundError } from '@multipult/graphql';
import { SAMPLE_DOCUMENT, renderPdfStream } from '@multipult/pdf';
import { TemplatesService } from './templates.service';

const PREVIEW_KIND = 'template-preview';

/**
 * Previews of a template version on the sample document (every Markdown feature, three scripts),
 * rendered while downloaded: nothing is stored, and the link names the exact version.
 */
@Injectable()
export class TemplatePreviews implements OnModuleInit {
  private readonly logger = new Logger(TemplatePreviews.name);

  constructor(
    private readonly templates: TemplatesService,
    private readonly links: FileLinks,
    private readonly downloads: FileDownloads,
  ) {}

  onModuleInit(): void {
    this.downloads.register(PREVIEW_KIND, (link) => this.render(link));
  }

  async link(tenantId: string, userId: string, templateId: string, version?: number): Promise<FileLink> {
    const found = await this.templates.version(tenantId, templateId, version);
    return this.links.create(PREVIEW_KIND, `${tenantId}/${found.id}`, `preview-v${found.version}.pdf`, { userId });
  }

  private async render(link: VerifiedFileLink) {
    const [tenantId, versionId] = link.resource.split('/');
    const version = await this.templates.versionById(tenantId, versionId);
    if (!version) throw new NotFoundError('ExportTemplateVersion');
    const body = renderPdfStream(
      {
        documents: [SAMPLE_DOCUMENT],
        documentCount: 1,
        template: this.templates.definitionOf(version),
        branding: await this.templates.brandingFor(tenantId),
        context: { title: `Preview v${version.version}`, tenantName: '', exportedBy: 'preview', exportedAt: new Date(), documentCount: 1 },
      },
      (error) => this.logger.warn(`template preview ${versionId} failed: ${error.message}`),
    );
    return { contentType: 'application/pdf', body };
  }
}
