import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsBoolean, IsEnum, IsOptional, IsString, IsUUID, MaxLength, ValidateNested } from 'class-validator';
import { ConnectionArgs, ConnectionType, keyed } from '@multipult/graphql';
import { PlatformRole } from './platform-roles';

export const MAX_BULK_USERS = 100;

@ObjectType({ description: "A user as platform admins see them (email included)" })
export class ManagedUser {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  displayName: string;

  @Field()
  username: string;

  @Field()
  emailVerified: boolean;

  @Field({ description: 'Signed in or refreshed a token within ACTIVE_USER_DAYS' })
  active: boolean;

  @Field(() => Date, { nullable: true })
  bannedAt: Date | null;

  @Field(() => String, { nullable: true })
  banReason: string | null;

  @Field(() => [PlatformRole])
  platformRoles: PlatformRole[];

  @Field(() => Date, { nullable: true })
  lastActiveAt: Date | null;

  @Field()
  createdAt: Date;
}

export const ManagedUserConnection = ConnectionType(ManagedUser);

@InputType({ description: 'Every given condition must hold' })
export class UsersFilter {
  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  verified?: boolean;

  @Field({ nullable: true })
  @IsOptional()
  @IsBoolean()
  banned?: boolean;

  @Field(() => PlatformRole, { nullable: true })
  @IsOptional()
  @IsEnum(PlatformRole, { message: 'validation.invalid' })
  role?: PlatformRole;

  @Field({ nullable: true, description: 'Part of the email, display name or username (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(100, { message: keyed('validation.maxLength') })
  search?: string;
}

@ArgsType()
export class UsersArgs extends ConnectionArgs {
  @Field(() => UsersFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => UsersFilter)
  filter?: UsersFilter;
}

@InputType()
export class BanUserInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  userId: string;

  @Field({ nullable: true, description: 'Recorded in the audit log and shown to other admins' })
  @IsOptional()
  @IsString()
  @MaxLength(500, { message: keyed('validation.maxLength') })
  reason?: string;
}

@InputType()
export class UserIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  userId: string;
}

@ObjectType()
export class ManagedUserPayload {
  @Field(() => ManagedUser)
  user: ManagedUser;
}

@InputType()
export class BulkRoleInput {
  @Field(() => [ID], { description: `1 to ${MAX_BULK_USERS} users` })
  @ArrayMinSize(1, { message: keyed('validation.arrayMinSize') })
  @ArrayMaxSize(MAX_BULK_USERS, { message: keyed('validation.arrayMaxSize') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  userIds: string[];

  @Field(() => PlatformRole)
  @IsEnum(PlatformRole, { message: 'validation.invalid' })
  role: PlatformRole;
}

@ObjectType()
export class BulkRolePayload {
  @Field(() => Int, { description: 'Users whose roles changed (those who already had, or lacked, the role are unchanged)' })
  changedCount: number;

  @Field(() => [ID], { description: 'Ids that match no user' })
  unknownUserIds: string[];
}

@ObjectType()
export class RoleCount {
  @Field()
  role: string;

  @Field(() => Int)
  count: number;
}

@ObjectType()
export class SystemStats {
  @Field(() => Int)
  usersTotal: number;

  @Field(() => Int, { description: 'Not banned, and signed in within ACTIVE_USER_DAYS' })
  usersActive: number;

  @Field(() => Int)
  usersVerified: number;

  @Field(() => Int)
  usersNewLast30Days: number;

  @Field(() => Int)
  usersBanned: number;

  @Field(() => Int, { description: 'Live sessions (not revoked, not expired)' })
  activeSessions: number;

  @Field(() => [RoleCount], { description: 'Users per platform role' })
  platformRoleDistribution: RoleCount[];

  @Field(() => [RoleCount], { description: 'Memberships per tenant role name, across tenants' })
  tenantRoleDistribution: RoleCount[];
}
