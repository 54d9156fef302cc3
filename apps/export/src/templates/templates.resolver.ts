import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { AddExportTemplateVersionInput, CreateExportTemplateInput, ExportFileLink, ExportTemplateIdArgs, PreviewExportTemplateInput, SetExportBrandingInput } from './dto';
import { ExportBranding } from './export-branding.entity';
import { ExportTemplateVersion } from './export-template-version.entity';
import { ExportTemplate } from './export-template.entity';
import { TemplatePreviews } from './template-previews';
import { TemplatesService } from './templates.service';

@Resolver(() => ExportTemplate)
export class TemplatesResolver {
  constructor(
    private readonly templates: TemplatesService,
    private readonly previews: TemplatePreviews,
  ) {}

  @RequirePermissions('export:create')
  @Query(() => [ExportTemplate], { description: "The tenant's PDF templates, by name" })
  exportTemplates(@CurrentTenant() tenantId: string): Promise<ExportTemplate[]> {
    return this.templates.list(tenantId);
  }

  @RequirePermissions('export:create')
  @Query(() => ExportTemplate)
  exportTemplate(@CurrentTenant() tenantId: string, @Args() { id }: ExportTemplateIdArgs): Promise<ExportTemplate> {
    return this.templates.get(tenantId, id);
  }

  @RequirePermissions('export:templates')
  @Mutation(() => ExportTemplate, { description: 'A new template with its version 1' })
  createExportTemplate(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateExportTemplateInput,
  ): Promise<ExportTemplate> {
    return this.templates.create(tenantId, principal.userId, input);
  }

  @RequirePermissions('export:templates')
  @Mutation(() => ExportTemplate, { description: 'Adds a version, which new exports use; past exports keep the version they used' })
  addExportTemplateVersion(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: AddExportTemplateVersionInput,
  ): Promise<ExportTemplate> {
    return this.templates.addVersion(tenantId, principal.userId, input);
  }

  @RequirePermissions('export:create')
  @Mutation(() => ExportFileLink, { description: 'A short-lived link to a PDF of the sample document in a template version' })
  previewExportTemplate(
    @CurrentTenant() tenantId: string,
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: PreviewExportTemplateInput,
  ): Promise<ExportFileLink> {
    return this.previews.link(tenantId, principal.userId, input.templateId, input.version);
  }

  @RequirePermissions('export:create')
  @Query(() => ExportBranding, { nullable: true, description: "The tenant's branding of PDFs; null until set" })
  exportBranding(@CurrentTenant() tenantId: string): Promise<ExportBranding | null> {
    return this.templates.branding(tenantId);
  }

  @RequirePermissions('export:templates')
  @Mutation(() => ExportBranding)
  setExportBranding(@CurrentTenant() tenantId: string, @Args('input') input: SetExportBrandingInput): Promise<ExportBranding> {
    return this.templates.setBranding(tenantId, input);
  }

  @ResolveField(() => [ExportTemplateVersion], { description: 'Newest first' })
  versions(@Parent() template: ExportTemplate): Promise<ExportTemplateVersion[]> {
    return this.templates.versions(template.id);
  }
}

@Resolver(() => ExportBranding)
export class BrandingResolver {
  @ResolveField(() => Boolean)
  hasLogo(@Parent() branding: ExportBranding): boolean {
    return branding.logo !== null;
  }
}
