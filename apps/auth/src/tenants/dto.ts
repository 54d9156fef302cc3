import { ArgsType, Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { ConnectionType, IsEmailAddress, keyed } from '@multipult/graphql';
import { TenantRoleNameField } from '../roles/dto';
import { Membership } from './membership.entity';
import { Tenant } from './tenant.entity';

@InputType()
export class CreateTenantInput {
  @Field()
  @IsString()
  @MinLength(2, { message: keyed('validation.minLength') })
  @MaxLength(100, { message: keyed('validation.maxLength') })
  name: string;

  @Field({ description: 'Lowercase letters, digits and dashes, 3 to 50 characters' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/, { message: 'validation.matches' })
  slug: string;
}

@ObjectType()
export class CreateTenantPayload {
  @Field(() => Tenant)
  tenant: Tenant;

  @Field(() => Membership, { description: "The creator's membership (role admin)" })
  membership: Membership;
}

@InputType()
export class AddTenantMemberInput {
  @Field({ description: 'Email of an existing user' })
  @IsEmailAddress()
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;

  @TenantRoleNameField()
  role: string;
}

@ObjectType()
export class AddTenantMemberPayload {
  @Field(() => Membership)
  membership: Membership;
}

@InputType()
export class SwitchTenantInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  tenantId: string;
}

@ObjectType()
export class SwitchTenantPayload {
  @Field({ description: 'An access token acting in the new tenant; the refresh token stays the same' })
  accessToken: string;

  @Field(() => Int)
  expiresIn: number;

  @Field(() => Tenant)
  tenant: Tenant;
}

@ArgsType()
export class TenantArgs {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

export const MembershipConnection = ConnectionType(Membership);

@InputType()
export class TenantMemberInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  userId: string;
}

@InputType()
export class ChangeTenantMemberRoleInput extends TenantMemberInput {
  @TenantRoleNameField()
  role: string;
}

@ObjectType()
export class RemoveTenantMemberPayload {
  @Field(() => ID)
  removedUserId: string;
}

@ObjectType()
export class ChangeTenantMemberRolePayload {
  @Field(() => Membership)
  membership: Membership;
}
