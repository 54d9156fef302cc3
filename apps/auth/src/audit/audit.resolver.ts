import { Args, Query, Resolver } from '@nestjs/graphql';
import { CurrentTenant, RequirePermissions, RequirePlatformPermissions } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { Connection } from '@multipult/graphql';
import type { AuthConfig } from '../config';
import { AuditEntry } from './audit-entry.entity';
import { AuditLog } from './audit-log.service';
import { AuditEntryConnection, AuditLogArgs, AuditLogExport, AuditLogFilter } from './dto';

@Resolver(() => AuditEntry)
export class AuditResolver {
  constructor(
    private readonly audit: AuditLog,
    @InjectConfig() private readonly config: AuthConfig,
  ) {}

  @RequirePlatformPermissions('audit:read')
  @Query(() => AuditEntryConnection, { description: 'Security and admin actions across the installation, newest first' })
  auditLog(@Args() args: AuditLogArgs): Promise<Connection<AuditEntry>> {
    return this.audit.query(args.filter ?? {}, args);
  }

  @RequirePlatformPermissions('audit:read')
  @Query(() => AuditLogExport, { description: 'The matching entries of auditLog as CSV' })
  exportAuditLog(@Args('filter', { nullable: true }) filter: AuditLogFilter = {}): Promise<AuditLogExport> {
    return this.audit.exportCsv(filter, this.config.AUDIT_EXPORT_MAX_ROWS);
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
  @Query(() => AuditLogExport, { description: 'The matching entries of tenantAuditLog as CSV' })
  exportTenantAuditLog(@CurrentTenant() tenantId: string, @Args('filter', { nullable: true }) filter: AuditLogFilter = {}): Promise<AuditLogExport> {
    return this.audit.exportCsv({ ...filter, tenantId }, this.config.AUDIT_EXPORT_MAX_ROWS);
  }
}
