import { Args, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions, RequirePlatformPermissions } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { Connection } from '@multipult/graphql';
import type { AuthConfig } from '../config';
import { AuditEntry } from './audit-entry.entity';
import { AuditExports } from './audit-exports';
import { AuditLog } from './audit-log.service';
import { AuditEntryConnection, AuditLogArgs, AuditLogExport, AuditLogFilter } from './dto';

@Resolver(() => AuditEntry)
export class AuditResolver {
  constructor(
    private readonly audit: AuditLog,
    private readonly exports: AuditExports,
    @InjectConfig() private readonly config: AuthConfig,
  ) {}

  @RequirePlatformPermissions('audit:read')
  @Query(() => AuditEntryConnection, { description: 'Security and admin actions across the installation, newest first' })
  auditLog(@Args() args: AuditLogArgs): Promise<Connection<AuditEntry>> {
    return this.audit.query(args.filter ?? {}, args);
  }

  @RequirePlatformPermissions('audit:read')
  @Query(() => AuditLogExport, { description: 'A download link to the matching entries of auditLog as CSV' })
  exportAuditLog(
    @CurrentUser() principal: AuthPrincipal,
    @Args('filter', { nullable: true }) filter: AuditLogFilter = {},
  ): Promise<AuditLogExport> {
    return this.exports.create(filter, this.config.AUDIT_EXPORT_MAX_ROWS, principal.userId);
  }

  @RequirePermissions('audit:read')
  @Query(() => AuditEntryConnection, { description: "Security and admin actions in the current tenant, newest first" })
  tenantAuditLog(
    @CurrentTenant() tenantId: string,
    @Args() args: AuditLogArgs,
  ): Promise<Connection<AuditEntry>> {
    return this.audit.query({ ...args.filter, tenantId }, args);
  }

  @RequirePermissions('audit:read')
  @Query(() => AuditLogExport, { description: 'A download link to the matching entries of tenantAuditLog as CSV' })
  exportTenantAuditLog(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('filter', { nullable: true }) filter: AuditLogFilter = {},
  ): Promise<AuditLogExport> {
    return this.exports.create({ ...filter, tenantId }, this.config.AUDIT_EXPORT_MAX_ROWS, principal.userId);
  }
}
