import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentTenant, RequirePermissions } from '@multipult/auth';
import { TenantSettings, TenantSettingsPayload, TenantUsage, UpdateTenantSettingsInput } from './dto';
import { TenantSettingsService } from './tenant-settings.service';

@Resolver()
export class TenantSettingsResolver {
  constructor(private readonly settings: TenantSettingsService) {}

  @RequirePermissions('tenant:read')
  @Query(() => TenantSettings, { description: "The current tenant's settings" })
  tenantSettings(@CurrentTenant() tenantId: string): Promise<TenantSettings> {
    return this.settings.get(tenantId);
  }

  @RequirePermissions('tenant:manage_settings')
  @Mutation(() => TenantSettingsPayload, { description: 'Changes the given settings of the current tenant; existing members are unaffected' })
  async updateTenantSettings(@CurrentTenant() tenantId: string, @Args('input') input: UpdateTenantSettingsInput): Promise<TenantSettingsPayload> {
    return { settings: await this.settings.update(tenantId, input) };
  }

  @RequirePermissions('tenant:read')
  @Query(() => TenantUsage, { description: "The current tenant's usage: members, invitations, roles, API requests" })
  tenantUsage(@CurrentTenant() tenantId: string): Promise<TenantUsage> {
    return this.settings.usage(tenantId);
  }
}
