import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { tenantRequestCounts } from '@multipult/auth';
import { BadUserInputError, ConflictError, NotFoundError } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { AuditLog } from '../audit/audit-log.service';
import { UpdateTenantSettingsInput, TenantUsage } from './dto';
import { TenantSettingsValues, emailDomainAllowed, readTenantSettings, tenantSettingsSchema } from './tenant-settings';

/** Per-tenant settings, the rules they impose on who may join, and the tenant's usage. */
@Injectable()
export class TenantSettingsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly audit: AuditLog,
  ) {}

  async get(tenantId: string, manager: EntityManager = this.dataSource.manager): Promise<TenantSettingsValues> {
    const [row]: { settings: unknown }[] = await manager.query('SELECT settings FROM tenants WHERE id = $1', [tenantId]);
    if (!row) throw new NotFoundError('Tenant');
    return readTenantSettings(row.settings);
  }

  async update(tenantId: string, input: UpdateTenantSettingsInput): Promise<TenantSettingsValues> {
    return this.dataSource.transaction(async (manager) => {
      const [row]: { settings: unknown }[] = await manager.query('SELECT settings FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
      if (!row) throw new NotFoundError('Tenant');
      const before = readTenantSettings(row.settings);
      const changes = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
      if (changes.allowedEmailDomains) {
        changes.allowedEmailDomains = [...new Set((changes.allowedEmailDomains as string[]).map((domain) => domain.trim().toLowerCase()))];
      }
      const parsed = tenantSettingsSchema.safeParse({ ...before, ...changes });
      if (!parsed.success) {
        throw new BadUserInputError(parsed.error.issues.map((issue) => ({ field: String(issue.path[0]), key: 'validation.invalid' })));
      }
      await manager.query('UPDATE tenants SET settings = $2 WHERE id = $1', [tenantId, parsed.data]);
      await this.audit.record(
        { action: 'tenant.settings_updated', targetType: 'tenant', targetId: tenantId, tenantId, details: { from: before, to: parsed.data } },
        manager,
      );
      return parsed.data;
    });
  }

  /**
   * Whether `email` may join the tenant now: its domain is allowed and a seat is free. Locks the
   * tenant row, so concurrent joins cannot both take the last seat; answers the tenant's settings.
   */
  async assertCanAdmit(manager: EntityManager, tenantId: string, email: string, field = 'email'): Promise<TenantSettingsValues> {
    const [row]: { settings: unknown; members: number }[] = await manager.query(
      `SELECT t.settings, (SELECT count(*)::int FROM memberships m WHERE m.tenant_id = t.id) AS members FROM tenants t WHERE t.id = $1 FOR UPDATE OF t`,
      [tenantId],
    );
    if (!row) throw new NotFoundError('Tenant');
    const settings = readTenantSettings(row.settings);
    if (!emailDomainAllowed(settings, email)) throw BadUserInputError.field(field, 'errors.email_domain_not_allowed');
    if (settings.memberLimit !== null && row.members >= settings.memberLimit) {
      throw new ConflictError('errors.member_limit_reached', { limit: settings.memberLimit });
    }
    return settings;
  }

  async usage(tenantId: string): Promise<TenantUsage> {
    const [[counts], settings, requests] = await Promise.all([
      this.dataSource.query(
        `SELECT (SELECT count(*)::int FROM memberships WHERE tenant_id = $1) AS members,
                (SELECT count(*)::int FROM tenant_invitations WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS pending,
                (SELECT count(*)::int FROM roles WHERE tenant_id = $1) AS roles`,
        [tenantId],
      ),
      this.get(tenantId),
      tenantRequestCounts(this.store, tenantId),
    ]);
    return {
      members: counts.members,
      memberLimit: settings.memberLimit,
      pendingInvitations: counts.pending,
      customRoles: counts.roles,
      apiRequestsToday: requests.today,
      apiRequestsThisMonth: requests.thisMonth,
    };
  }
}
