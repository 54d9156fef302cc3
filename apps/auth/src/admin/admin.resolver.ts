import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, RequirePlatformPermissions } from '@multipult/auth';
import { Connection } from '@multipult/graphql';
import { AdminService } from './admin.service';
import {
  BanUserInput,
  BulkRoleInput,
  BulkRolePayload,
  ManagedUser,
  ManagedUserConnection,
  ManagedUserPayload,
  SystemStats,
  UserIdInput,
  UsersArgs,
} from './dto';

/** The platform operators' API; each operation names the platform permission it needs. */
@Resolver(() => ManagedUser)
export class AdminResolver {
  constructor(private readonly admin: AdminService) {}

  @RequirePlatformPermissions('users:read')
  @Query(() => ManagedUserConnection, { description: 'Every account, newest first, filtered; at most 100 per page' })
  adminUsers(@Args() args: UsersArgs): Promise<Connection<ManagedUser>> {
    return this.admin.users(args.filter ?? {}, args);
  }

  @RequirePlatformPermissions('users:read')
  @Query(() => ManagedUser, { description: 'One account by id' })
  adminUser(@Args('input') input: UserIdInput): Promise<ManagedUser> {
    return this.admin.user(input.userId);
  }

  @RequirePlatformPermissions('users:ban')
  @Mutation(() => ManagedUserPayload, { description: 'Ends every session of the user at once and refuses their sign-ins; never the caller' })
  async banUser(@CurrentUser() principal: AuthPrincipal, @Args('input') input: BanUserInput): Promise<ManagedUserPayload> {
    return { user: await this.admin.ban(principal.userId, input.userId, input.reason?.trim() || null) };
  }

  @RequirePlatformPermissions('users:ban')
  @Mutation(() => ManagedUserPayload, { description: 'Lets a banned user sign in again' })
  async unbanUser(@CurrentUser() principal: AuthPrincipal, @Args('input') input: UserIdInput): Promise<ManagedUserPayload> {
    return { user: await this.admin.unban(principal.userId, input.userId) };
  }

  @RequirePlatformPermissions('users:manage_roles')
  @Mutation(() => BulkRolePayload, { description: 'Gives a platform role to up to 100 users' })
  bulkAssignRole(@Args('input') input: BulkRoleInput): Promise<BulkRolePayload> {
    return this.admin.assignRole(input.userIds, input.role);
  }

  @RequirePlatformPermissions('users:manage_roles')
  @Mutation(() => BulkRolePayload, {
    description: "Takes a platform role from up to 100 users (never the last platform admin); their tokens stop at once",
  })
  bulkRemoveRole(@Args('input') input: BulkRoleInput): Promise<BulkRolePayload> {
    return this.admin.removeRole(input.userIds, input.role);
  }

  @RequirePlatformPermissions('stats:read')
  @Query(() => SystemStats, { description: 'Counts over the whole installation' })
  systemStats(): Promise<SystemStats> {
    return this.admin.stats();
  }
}
