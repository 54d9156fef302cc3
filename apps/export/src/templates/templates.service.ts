import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { uniqueViolationColumns } from '@multipult/database';
import { BadUserInputError, ConflictError, NotFoundError } from '@multipult/graphql';
import { Branding, DEFAULT_TEMPLATE, TemplateDefinition, TemplateError, compileTemplate, templateStylesSchema } from '@multipult/pdf';
import type { ExportConfig } from '../config';
import { AddExportTemplateVersionInput, CreateExportTemplateInput, ExportTemplateDefinitionInput, SetExportBrandingInput } from './dto';
import { ExportBranding } from './export-branding.entity';
import { ExportTemplateVersion } from './export-template-version.entity';
import { ExportTemplate } from './export-template.entity';

const IMAGE_SIGNATURES = [Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from([0xff, 0xd8, 0xff])];

/** Templates (versioned, immutable versions) and branding of each tenant. */
@Injectable()
export class TemplatesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ExportConfig,
  ) {}

  async create(tenantId: string, userId: string, input: CreateExportTemplateInput): Promise<ExportTemplate> {
    const definition = this.definitionFrom(input.definition);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const template = await manager.save(
          manager.create(ExportTemplate, { tenantId, name: input.name.trim(), description: input.description?.trim() ?? '', latestVersion: 1, createdBy: userId }),
        );
        await manager.insert(ExportTemplateVersion, { templateId: template.id, tenantId, version: 1, ...definition, createdBy: userId });
        return template;
      });
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.export_template_exists');
      throw error;
    }
  }

  /** A new version; earlier ones, and exports made with them, are untouched. */
  async addVersion(tenantId: string, userId: string, input: AddExportTemplateVersionInput): Promise<ExportTemplate> {
    const definition = this.definitionFrom(input.definition);
    return this.dataSource.transaction(async (manager) => {
      const template = await manager.findOne(ExportTemplate, { where: { id: input.templateId, tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!template) throw new NotFoundError('ExportTemplate');
      template.latestVersion += 1;
      await manager.insert(ExportTemplateVersion, { templateId: template.id, tenantId, version: template.latestVersion, ...definition, createdBy: userId });
      return manager.save(template);
    });
  }

  list(tenantId: string): Promise<ExportTemplate[]> {
    return this.dataSource.getRepository(ExportTemplate).find({ where: { tenantId }, order: { name: 'ASC' } });
  }

  async get(tenantId: string, id: string): Promise<ExportTemplate> {
    const template = await this.dataSource.getRepository(ExportTemplate).findOneBy({ id, tenantId });
    if (!template) throw new NotFoundError('ExportTemplate');
    return template;
  }

  versions(templateId: string): Promise<ExportTemplateVersion[]> {
    return this.dataSource.getRepository(ExportTemplateVersion).find({ where: { templateId }, order: { version: 'DESC' } });
  }

  /** The version an export or preview uses: the one asked for, else the template's latest. */
  async version(tenantId: string, templateId: string, version?: number): Promise<ExportTemplateVersion> {
    const template = await this.get(tenantId, templateId);
    const found = await this.dataSource
      .getRepository(ExportTemplateVersion)
      .findOneBy({ templateId: template.id, version: version ?? template.latestVersion });
    if (!found) throw BadUserInputError.field('input.version', 'errors.export_template_version_unknown');
    return found;
  }

  async versionById(tenantId: string, id: string): Promise<ExportTemplateVersion | null> {
    return this.dataSource.getRepository(ExportTemplateVersion).findOneBy({ id, tenantId });
  }

  /** What the renderer takes: the version's, or the built-in template when an export names none. */
  definitionOf(version: ExportTemplateVersion | null): TemplateDefinition {
    if (!version) return { ...DEFAULT_TEMPLATE, styles: templateStylesSchema.parse(DEFAULT_TEMPLATE.styles) };
    return { titlePage: version.titlePage, header: version.header, footer: version.footer, styles: templateStylesSchema.parse(version.styles) };
  }

  async branding(tenantId: string): Promise<ExportBranding | null> {
    return this.dataSource.getRepository(ExportBranding).findOneBy({ tenantId });
  }

  /** The renderer's view of the tenant's branding. */
  async brandingFor(tenantId: string): Promise<Branding> {
    const branding = await this.branding(tenantId);
    return {
      companyName: branding?.companyName ?? undefined,
      primaryColor: branding?.primaryColor ?? undefined,
      accentColor: branding?.accentColor ?? undefined,
      logo: branding?.logo ?? undefined,
    };
  }

  async setBranding(tenantId: string, input: SetExportBrandingInput): Promise<ExportBranding> {
    const logo = input.logoBase64 === undefined ? undefined : this.imageFrom(input.logoBase64, 'input.logoBase64');
    const repository = this.dataSource.getRepository(ExportBranding);
    const current = (await repository.findOneBy({ tenantId })) ?? repository.create({ tenantId, companyName: null, primaryColor: null, accentColor: null, logo: null });
    if (input.companyName !== undefined) current.companyName = input.companyName.trim() || null;
    if (input.primaryColor !== undefined) current.primaryColor = input.primaryColor;
    if (input.accentColor !== undefined) current.accentColor = input.accentColor;
    if (logo) current.logo = logo;
    if (input.removeLogo) current.logo = null;
    return repository.save(current);
  }

  /** PNG or JPEG bytes from base64, within the size limit; BAD_USER_INPUT on `field` otherwise. */
  imageFrom(base64: string, field: string): Buffer {
    if (base64.length > Math.ceil((this.config.EXPORT_MAX_IMAGE_BYTES * 4) / 3) + 4) {
      throw BadUserInputError.field(field, 'errors.export_image_too_large', { maxBytes: this.config.EXPORT_MAX_IMAGE_BYTES });
    }
    const bytes = Buffer.from(base64, 'base64');
    if (bytes.length > this.config.EXPORT_MAX_IMAGE_BYTES) {
      throw BadUserInputError.field(field, 'errors.export_image_too_large', { maxBytes: this.config.EXPORT_MAX_IMAGE_BYTES });
    }
    if (!IMAGE_SIGNATURES.some((signature) => bytes.subarray(0, signature.length).equals(signature))) {
      throw BadUserInputError.field(field, 'errors.export_image_format');
    }
    return bytes;
  }

  /** Validated and compiled once here, so a broken template is refused when saved, not when an export runs. */
  private definitionFrom(input: ExportTemplateDefinitionInput): Omit<ExportTemplateVersion, 'id' | 'templateId' | 'tenantId' | 'version' | 'createdBy' | 'createdAt'> {
    const styles = templateStylesSchema.safeParse(input.styles ?? {});
    if (!styles.success) throw BadUserInputError.field('input.definition.styles', 'errors.export_template_invalid', { reason: styles.error.issues[0]?.message ?? 'invalid' });
    const definition = { titlePage: input.titlePage, header: input.header, footer: input.footer, styles: styles.data };
    try {
      compileTemplate(definition);
    } catch (error) {
      if (error instanceof TemplateError) throw BadUserInputError.field('input.definition', 'errors.export_template_invalid', { reason: error.message });
      throw error;
    }
    return definition;
  }
}
