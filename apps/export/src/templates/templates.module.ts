import { Module } from '@nestjs/common';
import { BrandingResolver, TemplatesResolver } from './templates.resolver';
import { TemplatePreviews } from './template-previews';
import { TemplatesService } from './templates.service';

/** Per-tenant PDF templates (versioned), previews and branding. */
@Module({ providers: [TemplatesService, TemplatePreviews, TemplatesResolver, BrandingResolver], exports: [TemplatesService] })
export class TemplatesModule {}
