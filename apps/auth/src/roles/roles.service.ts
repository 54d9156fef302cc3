import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { coversPermission, isCataloguedPermission } from '@multipult/auth';
import { uniqueViolationColumns } from '@multipult/database';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '@multipult/graphql';
import { AuditLog } from '../audit/audit-log.service';
import { CredentialCutOff } from '../sessions/credential-cut-off';
import { BUILTIN_ROLES, Role } from '../tenants/role.entity';

/**
 * Custom roles per tenant, beside the built-in ones. Nobody hands out more than they hold: a role
 * is created, changed or assigned only by a caller who has every permission in it.
 */
@Injectable()
export class RolesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly cutOff: CredentialCutOff,
  ) {}

  /** Built-in roles, then the tenant's own, by name. */
  list(tenantId: string): Promise<Role[]> {
    return this.dataSource
      .getRepository(Role)
      .createQueryBuilder('role')
      .where('role.tenant_id IS NULL OR role.tenant_id = :tenantId', { tenantId })
      .orderBy('role.tenant_id IS NULL', 'DESC')
      .addOrderBy('role.name', 'ASC')
      .getMany();
  }

  /** The role called `name` in the tenant, if the grantor may hand it out. */
  async assignable(manager: EntityManager, tenantId: string, name: string, grantorPermissions: readonly string[]): Promise<Role> {
    const role = await manager
      .getRepository(Role)
      .createQueryBuilder('role')
      .where('role.name = :name AND (role.tenant_id IS NULL OR role.tenant_id = :tenantId)', { name, tenantId })
      .getOne();
    if (!role) throw BadUserInputError.field('role', 'errors.unknown_role', { role: name });
    this.assertHeld(role.permissions, grantorPermissions);
    return role;
  }

  async create(tenantId: string, name: string, permissions: string[], grantorPermissions: readonly string[]): Promise<Role> {
    if (name in BUILTIN_ROLES) throw new ConflictError('errors.role_name_taken');
    const normalized = this.validated(permissions, grantorPermissions);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const role = await manager.save(manager.create(Role, { tenantId, name, permissions: normalized }));
        await this.audit.record({ action: 'role.created', targetType: 'role', targetId: role.id, tenantId, details: { name, permissions: normalized } }, manager);
        return role;
      });
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.role_name_taken');
      throw error;
    }
  }

  /** New permissions for a custom role; its members' tokens stop at once, and a refresh carries the new set. */
  async update(tenantId: string, roleId: string, permissions: string[], grantorPermissions: readonly string[]): Promise<Role> {
    const normalized = this.validated(permissions, grantorPermissions);
    const { role, memberIds } = await this.dataSource.transaction(async (manager) => {
      const role = await this.customRole(manager, tenantId, roleId);
      // Taking permissions away from a role is handing out its old ones no more; still, only a holder may touch it.
      this.assertHeld(role.permissions, grantorPermissions);
      const before = role.permissions;
      role.permissions = normalized;
      await manager.save(role);
      const members: { user_id: string }[] = await manager.query('SELECT user_id FROM memberships WHERE tenant_id = $1 AND role_id = $2', [
        tenantId,
        roleId,
      ]);
      await this.audit.record(
        { action: 'role.updated', targetType: 'role', targetId: roleId, tenantId, details: { name: role.name, from: before, to: normalized } },
        manager,
      );
      return { role, memberIds: members.map((member) => member.user_id) };
    });
    await this.cutOff.apply(memberIds);
    return role;
  }

  /** Deletes a custom role nobody holds or is invited with. */
  async delete(tenantId: string, roleId: string, grantorPermissions: readonly string[]): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const role = await this.customRole(manager, tenantId, roleId);
      this.assertHeld(role.permissions, grantorPermissions);
      const [{ in_use }]: { in_use: boolean }[] = await manager.query(
        `SELECT EXISTS (SELECT 1 FROM memberships WHERE role_id = $1)
             OR EXISTS (SELECT 1 FROM tenant_invitations WHERE role_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS in_use`,
        [roleId],
      );
      if (in_use) throw new ConflictError('errors.role_in_use');
      await manager.query('DELETE FROM tenant_invitations WHERE role_id = $1', [roleId]);
      await manager.query('DELETE FROM roles WHERE id = $1', [roleId]);
      await this.audit.record({ action: 'role.deleted', targetType: 'role', targetId: roleId, tenantId, details: { name: role.name } }, manager);
    });
  }

  /** A custom role of this tenant, locked; built-in roles are fixed (FORBIDDEN) and other tenants' are not found. */
  private async customRole(manager: EntityManager, tenantId: string, roleId: string): Promise<Role> {
    const role = await manager.findOne(Role, { where: { id: roleId }, lock: { mode: 'pessimistic_write' } });
    if (role && role.tenantId === null) throw new ForbiddenError('errors.builtin_role');
    if (!role || role.tenantId !== tenantId) throw new NotFoundError('Role');
    return role;
  }

  private validated(permissions: string[], grantorPermissions: readonly string[]): string[] {
    const unique = [...new Set(permissions.map((permission) => permission.trim()))];
    const unknown = unique.filter((permission) => !isCataloguedPermission(permission));
    if (unknown.length) throw BadUserInputError.field('permissions', 'errors.unknown_permission', { permission: unknown.join(', ') });
    this.assertHeld(unique, grantorPermissions);
    return unique.sort();
  }

  private assertHeld(permissions: readonly string[], grantorPermissions: readonly string[]): void {
    const exceeding = permissions.filter((permission) => !coversPermission(grantorPermissions, permission));
    if (exceeding.length) throw new ForbiddenError('errors.role_exceeds_yours', { permission: exceeding.join(', ') });
  }
}
