import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentTenant, CurrentUser, RequirePermissions } from '@multipult/auth';
import { EmailTokenInput } from '../email-verification/dto';
import {
  AcceptTenantInvitationPayload,
  InviteTenantMemberInput,
  InviteTenantMemberPayload,
  RevokeTenantInvitationPayload,
  TenantInvitation,
  TenantInvitationIdInput,
} from './dto';
import { InvitationsService } from './invitations.service';

@Resolver(() => TenantInvitation)
export class InvitationsResolver {
  constructor(private readonly invitations: InvitationsService) {}

  @RequirePermissions('tenant:manage_members')
  @Mutation(() => InviteTenantMemberPayload, { description: 'Emails an invitation into the current tenant (replaces a pending one for the address)' })
  async inviteTenantMember(
    @CurrentUser() principal: AuthPrincipal,
    @CurrentTenant() tenantId: string,
    @Args('input') input: InviteTenantMemberInput,
  ): Promise<InviteTenantMemberPayload> {
    return { invitation: await this.invitations.invite(tenantId, principal.userId, input.email, input.role, principal.permissions) };
  }

  @RequirePermissions('tenant:manage_members')
  @Query(() => [TenantInvitation], { description: 'Pending invitations of the current tenant' })
  tenantInvitations(@CurrentTenant() tenantId: string): Promise<TenantInvitation[]> {
    return this.invitations.pending(tenantId);
  }

  @RequirePermissions('tenant:manage_members')
  @Mutation(() => RevokeTenantInvitationPayload)
  async revokeTenantInvitation(@CurrentTenant() tenantId: string, @Args('input') input: TenantInvitationIdInput): Promise<RevokeTenantInvitationPayload> {
    return { revokedInvitationId: await this.invitations.revoke(tenantId, input.id) };
  }

  @Mutation(() => AcceptTenantInvitationPayload, {
    description: 'Joins the tenant with the token from the emailed link, signed in with the invited address; switch to it to act there',
  })
  async acceptTenantInvitation(@CurrentUser() principal: AuthPrincipal, @Args('input') input: EmailTokenInput): Promise<AcceptTenantInvitationPayload> {
    return { membership: await this.invitations.accept(principal.userId, input.token) };
  }
}
