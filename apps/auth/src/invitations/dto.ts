import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsEmail, IsUUID, Matches, MaxLength } from 'class-validator';
import { keyed } from '@multipult/graphql';
import { Membership } from '../tenants/membership.entity';
import { ROLE_NAME_PATTERN } from '../roles/dto';
import { BUILTIN_ROLES } from '../tenants/role.entity';

@ObjectType({ description: 'A pending invitation into the current tenant' })
export class TenantInvitation {
  @Field(() => ID)
  id: string;

  @Field()
  email: string;

  @Field()
  role: string;

  @Field()
  expiresAt: Date;

  @Field()
  createdAt: Date;
}

@InputType()
export class InviteTenantMemberInput {
  @Field({ description: 'Anyone: the invitee may sign up with this address to accept' })
  @IsEmail({}, { message: 'validation.isEmail' })
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;

  @Field({ description: `A role of the tenant: built-in (${Object.keys(BUILTIN_ROLES).join(', ')}) or custom; at most the caller's own permissions` })
  @Matches(ROLE_NAME_PATTERN, { message: 'validation.invalid' })
  role: string;
}

@ObjectType()
export class InviteTenantMemberPayload {
  @Field(() => TenantInvitation)
  invitation: TenantInvitation;
}

@InputType()
export class TenantInvitationIdInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'validation.isUUID' })
  id: string;
}

@ObjectType()
export class RevokeTenantInvitationPayload {
  @Field(() => ID)
  revokedInvitationId: string;
}

@ObjectType()
export class AcceptTenantInvitationPayload {
  @Field(() => Membership)
  membership: Membership;
}
