import { Args, Mutation, Query, ResolveField, Resolver, Root } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions, TENANT_PERMISSIONS } from '@multipult/auth';
import { Role } from '../tenants/role.entity';
import {
  CreateTenantRoleInput,
  DeleteTenantRolePayload,
  PermissionInfo,
  TenantRoleInput,
  TenantRolePayload,
  UpdateTenantRoleInput,
} from './dto';
import { RolesService } from './roles.service';

@Resolver(() => Role)
export class RolesResolver {
  constructor(private readonly roles: RolesService) {}

  @ResolveField(() => Boolean, { description: 'Built-in roles (admin, member, viewer) exist in every tenant and cannot change' })
  builtIn(@Root() role: Role): boolean {
    return role.tenantId === null;
  }

  @Query(() => [PermissionInfo], { description: 'Every tenant permission roles can be built from' })
  permissionCatalog(): PermissionInfo[] {
    return Object.entries(TENANT_PERMISSIONS).map(([permission, description]) => ({ permission, description }));
  }

  @RequirePermissions('tenant:read')
  @Query(() => [Role], { description: 'Roles of the current tenant: built-in ones, then its own' })
  tenantRoles(@CurrentTenant() tenantId: string): Promise<Role[]> {
    return this.roles.list(tenantId);
  }

  @RequirePermissions('tenant:manage_roles')
  @Mutation(() => TenantRolePayload, { description: 'Creates a custom role from permissions the caller holds' })
  async createTenantRole(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: CreateTenantRoleInput,
  ): Promise<TenantRolePayload> {
    return { role: await this.roles.create(tenantId, input.name, input.permissions, principal.permissions) };
  }

  @RequirePermissions('tenant:manage_roles')
  @Mutation(() => TenantRolePayload, { description: "Replaces a custom role's permissions; its members' tokens must be refreshed" })
  async updateTenantRole(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: UpdateTenantRoleInput,
  ): Promise<TenantRolePayload> {
    return { role: await this.roles.update(tenantId, input.roleId, input.permissions, principal.permissions) };
  }

  @RequirePermissions('tenant:manage_roles')
  @Mutation(() => DeleteTenantRolePayload, { description: 'Deletes a custom role that no member holds and no pending invitation names' })
  async deleteTenantRole(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: TenantRoleInput,
  ): Promise<DeleteTenantRolePayload> {
    await this.roles.delete(tenantId, input.roleId, principal.permissions);
    return { deletedRoleId: input.roleId };
  }
}
