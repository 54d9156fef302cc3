import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { uniqueViolationColumns } from '@multipult/database';
import { OutboxWriter, TenantMemberAdded, TenantMemberRemoved, TenantMemberRoleChanged } from '@multipult/events';
import {
  ConflictError,
  Connection,
  ConnectionArgs,
  KeysetOrder,
  NotFoundError,
  paginate,
} from '@multipult/graphql';
import { AuditLog } from '../audit/audit-log.service';
import { RolesService } from '../roles/roles.service';
import { CredentialCutOff } from '../sessions/credential-cut-off';
import { TenantSettingsService } from '../tenant-settings/tenant-settings.service';
import { User } from '../users/user.entity';
import { AddTenantMemberInput, CreateTenantInput } from './dto';
import { Membership } from './membership.entity';
import { Role } from './role.entity';
import { Tenant } from './tenant.entity';

/** Members oldest first; a cursor belongs to one tenant's list. */
const OLDEST_MEMBERS = new KeysetOrder({
  connection: 'auth.tenant.members',
  columns: [
    { expression: 'membership.created_at', type: 'timestamp', direction: 'ASC' },
    { expression: 'membership.user_id', type: 'uuid', direction: 'ASC' },
  ],
});

@Injectable()
export class TenantsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly roles: RolesService,
    private readonly tenantSettings: TenantSettingsService,
    private readonly cutOff: CredentialCutOff,
  ) {}

  async removeMember(tenantId: string, userId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const role = await this.lockedRoleOf(manager, tenantId, userId);
      if (role === 'admin') await this.keepAnAdmin(manager, tenantId, userId);
      await manager.query('DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
      await this.outbox.enqueue(manager, TenantMemberRemoved, { aggregateId: tenantId, tenantId, payload: { tenantId, userId } });
      await this.audit.record({ action: 'tenant.member_removed', targetType: 'user', targetId: userId, tenantId, details: { role } }, manager);
    });
    await this.cutOff.apply([userId]);
  }

  async changeRole(tenantId: string, userId: string, roleName: string, grantorPermissions: readonly string[]): Promise<Membership> {
    const membership = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedRoleOf(manager, tenantId, userId);
      const role = await this.roles.assignable(manager, tenantId, roleName, grantorPermissions);
      if (current === 'admin' && roleName !== 'admin') await this.keepAnAdmin(manager, tenantId, userId);
      await manager.update(Membership, { tenantId, userId }, { roleId: role.id });
      await this.outbox.enqueue(manager, TenantMemberRoleChanged, { aggregateId: tenantId, tenantId, payload: { tenantId, userId, role: roleName } });
      await this.audit.record(
        { action: 'tenant.member_role_changed', targetType: 'user', targetId: userId, tenantId, details: { from: current, to: roleName } },
        manager,
      );
      return manager.findOneOrFail(Membership, { where: { tenantId, userId }, relations: { tenant: true, user: true, role: true } });
    });
    await this.cutOff.apply([userId]);
    return membership;
  }

  /** The member's role, with the tenant's memberships locked so two admins cannot demote each other at once. */
  private async lockedRoleOf(manager: EntityManager, tenantId: string, userId: string): Promise<string> {
    await manager.query('SELECT 1 FROM memberships WHERE tenant_id = $1 FOR UPDATE', [tenantId]);
    const [row]: { name: string }[] = await manager.query(
      'SELECT r.name FROM memberships m JOIN roles r ON r.id = m.role_id WHERE m.tenant_id = $1 AND m.user_id = $2',
      [tenantId, userId],
    );
    if (!row) throw new NotFoundError('Membership');
    return row.name;
  }

  private async keepAnAdmin(manager: EntityManager, tenantId: string, leavingUserId: string): Promise<void> {
    const [{ count }]: { count: number }[] = await manager.query(
      `SELECT count(*)::int AS count FROM memberships m JOIN roles r ON r.id = m.role_id
       WHERE m.tenant_id = $1 AND m.user_id <> $2 AND r.name = 'admin'`,
      [tenantId, leavingUserId],
    );
    if (count === 0) throw new ConflictError('errors.last_admin');
  }

  async create(userId: string, input: CreateTenantInput): Promise<{ tenant: Tenant; membership: Membership }> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const tenant = await manager.save(manager.create(Tenant, { name: input.name.trim(), slug: input.slug }));
        const role = await manager.findOneByOrFail(Role, { name: 'admin', tenantId: IsNull() });
        await manager.insert(Membership, { tenantId: tenant.id, userId, roleId: role.id });
        await this.outbox.enqueue(manager, TenantMemberAdded, {
          aggregateId: tenant.id,
          tenantId: tenant.id,
          actorId: userId,
          payload: { tenantId: tenant.id, userId, role: role.name },
        });
        await this.audit.record({ action: 'tenant.created', targetType: 'tenant', targetId: tenant.id, tenantId: tenant.id, details: { slug: tenant.slug } }, manager);
        const membership = await manager.findOneOrFail(Membership, {
          where: { tenantId: tenant.id, userId },
          relations: { tenant: true, user: true, role: true },
        });
        return { tenant, membership };
      });
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.slug_taken');
      throw error;
    }
  }

  /** The tenant, if the user belongs to it; NOT_FOUND otherwise, so foreign tenants stay invisible. */
  async getForMember(userId: string, tenantId: string): Promise<Tenant> {
    const membership = await this.dataSource.getRepository(Membership).findOne({
      where: { userId, tenantId },
      relations: { tenant: true },
    });
    if (!membership) throw new NotFoundError('Tenant');
    return membership.tenant;
  }

  myMemberships(userId: string): Promise<Membership[]> {
    return this.dataSource.getRepository(Membership).find({
      where: { userId },
      relations: { tenant: true, user: true, role: true },
      order: { createdAt: 'ASC' },
    });
  }

  async addMember(tenantId: string, input: AddTenantMemberInput, grantorPermissions: readonly string[]): Promise<Membership> {
    return this.dataSource.transaction(async (manager) => {
      const role = await this.roles.assignable(manager, tenantId, input.role, grantorPermissions);
      const user = await manager.findOneBy(User, { email: input.email.trim().toLowerCase() });
      if (!user) throw new NotFoundError('User');
      await this.tenantSettings.assertCanAdmit(manager, tenantId, user.email);
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Membership)
        .values({ tenantId, userId: user.id, roleId: role.id })
        .orIgnore()
        .execute();
      if ((inserted.raw as unknown[]).length === 0) throw new ConflictError('errors.already_member');
      await this.outbox.enqueue(manager, TenantMemberAdded, {
        aggregateId: tenantId,
        tenantId,
        payload: { tenantId, userId: user.id, role: role.name },
      });
      await this.audit.record({ action: 'tenant.member_added', targetType: 'user', targetId: user.id, tenantId, details: { role: role.name } }, manager);
      return manager.findOneOrFail(Membership, {
        where: { tenantId, userId: user.id },
        relations: { tenant: true, user: true, role: true },
      });
    });
  }

  /** Members of one tenant, oldest first. */
  async members(tenantId: string, args: ConnectionArgs): Promise<Connection<Membership>> {
    const repository = this.dataSource.getRepository(Membership);
    const query = repository
      .createQueryBuilder('membership')
      .innerJoinAndSelect('membership.tenant', 'tenant')
      .innerJoinAndSelect('membership.user', 'user')
      .innerJoinAndSelect('membership.role', 'role')
      .where('membership.tenant_id = :tenantId', { tenantId });
    return paginate(query, OLDEST_MEMBERS, args, { scope: tenantId, totalCount: () => repository.countBy({ tenantId }) });
  }
}
