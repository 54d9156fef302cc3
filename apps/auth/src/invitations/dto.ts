import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IsUUID, MaxLength } from 'class-validator';
import { IsEmailAddress, keyed } from '@multipult/graphql';
import { TenantRoleNameField } from '../roles/dto';
import { Membership } from '../tenants/membership.entity';

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
  @IsEmailAddress()
  @MaxLength(254, { message: keyed('validation.maxLength') })
  email: string;

  @TenantRoleNameField()
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
