import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { ArrayMaxSize, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { keyed } from '@multipult/graphql';

@ObjectType({ description: "The current tenant's settings" })
export class TenantSettings {
  @Field(() => [String], { description: 'Only addresses of these domains may join (empty: any)' })
  allowedEmailDomains: string[];

  @Field(() => Int, { nullable: true, description: 'Most members the tenant may have; null for no limit' })
  memberLimit: number | null;

  @Field(() => Int, { nullable: true, description: "Days an invitation stays valid; null for the installation's default" })
  invitationTtlDays: number | null;
}

@InputType({ description: 'Only the given settings change; null clears a limit back to its default' })
export class UpdateTenantSettingsInput {
  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(50, { message: keyed('validation.arrayMaxSize') })
  @IsString({ each: true })
  allowedEmailDomains?: string[];

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(1_000_000, { message: keyed('validation.max') })
  memberLimit?: number | null;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(90, { message: keyed('validation.max') })
  invitationTtlDays?: number | null;
}

@ObjectType()
export class TenantSettingsPayload {
  @Field(() => TenantSettings)
  settings: TenantSettings;
}

@ObjectType({ description: "What the current tenant uses, against its limits" })
export class TenantUsage {
  @Field(() => Int)
  members: number;

  @Field(() => Int, { nullable: true })
  memberLimit: number | null;

  @Field(() => Int)
  pendingInvitations: number;

  @Field(() => Int)
  customRoles: number;

  @Field(() => Int, { description: 'GraphQL requests made in the tenant through the gateway today (UTC)' })
  apiRequestsToday: number;

  @Field(() => Int, { description: 'The same, this calendar month (UTC)' })
  apiRequestsThisMonth: number;
}
