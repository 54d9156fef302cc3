import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { Connection, ConnectionArgs } from '@multipult/graphql';
import { SessionsService } from '../sessions/sessions.service';
import {
  ChangeTenantMemberRoleInput,
  ChangeTenantMemberRolePayload,
  RemoveTenantMemberPayload,
  TenantMemberInput,
  AddTenantMemberInput,
  AddTenantMemberPayload,
  CreateTenantInput,
  CreateTenantPayload,
  MembershipConnection,
  SwitchTenantInput,
  SwitchTenantPayload,
  TenantArgs,
} from './dto';
import { Membership } from './membership.entity';
import { Tenant } from './tenant.entity';
import { TenantsService } from './tenants.service';

@Resolver(() => Tenant)
export class TenantsResolver {
  constructor(
    private readonly tenants: TenantsService,
    private readonly sessions: SessionsService,
  ) {}

  @Mutation(() => CreateTenantPayload, { description: 'Creates a tenant with the caller as its admin' })
  async createTenant(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: CreateTenantInput,
  ): Promise<CreateTenantPayload> {
    return this.tenants.create(principal.userId, input);
  }

  @Mutation(() => SwitchTenantPayload, { description: 'Makes another tenant of the caller the active one' })
  async switchTenant(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: SwitchTenantInput,
  ): Promise<SwitchTenantPayload> {
    const tenant = await this.tenants.getForMember(principal.userId, input.tenantId);
    const token = await this.sessions.switchTenant(principal.sessionId, principal.userId, tenant.id);
    return { ...token, tenant };
  }

  @RequirePermissions('tenant:manage_members')
  @Mutation(() => AddTenantMemberPayload, { description: 'Adds an existing user to the current tenant' })
  async addTenantMember(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: AddTenantMemberInput,
  ): Promise<AddTenantMemberPayload> {
    return { membership: await this.tenants.addMember(tenantId, input, principal.permissions) };
  }

  @RequirePermissions('tenant:manage_members')
  @Mutation(() => RemoveTenantMemberPayload, { description: 'Removes a member from the current tenant (never its last admin); their tokens must be refreshed' })
  async removeTenantMember(@CurrentTenant() tenantId: string, @Args('input') input: TenantMemberInput): Promise<RemoveTenantMemberPayload> {
    await this.tenants.removeMember(tenantId, input.userId);
    return { removedUserId: input.userId };
  }

  @RequirePermissions('tenant:manage_members')
  @Mutation(() => ChangeTenantMemberRolePayload, { description: "Changes a member's role (the tenant keeps at least one admin); their tokens must be refreshed" })
  async changeTenantMemberRole(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: ChangeTenantMemberRoleInput,
  ): Promise<ChangeTenantMemberRolePayload> {
    return { membership: await this.tenants.changeRole(tenantId, input.userId, input.role, principal.permissions) };
  }

  @Query(() => [Membership], { description: 'Every tenant the caller belongs to, with their role there' })
  myMemberships(@CurrentUser() principal: AuthPrincipal): Promise<Membership[]> {
    return this.tenants.myMemberships(principal.userId);
  }

  @Query(() => Tenant, { description: 'A tenant the caller belongs to' })
  tenant(@CurrentUser() principal: AuthPrincipal, @Args() args: TenantArgs): Promise<Tenant> {
    return this.tenants.getForMember(principal.userId, args.id);
  }

  @RequirePermissions('tenant:read')
  @Query(() => MembershipConnection, { description: 'Members of the current tenant' })
  tenantMembers(@CurrentTenant() tenantId: string, @Args() args: ConnectionArgs): Promise<Connection<Membership>> {
    return this.tenants.members(tenantId, args);
  }
}
