import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, Public } from '@multipult/auth';
import {
  ChangePasswordInput,
  ChangePasswordPayload,
  RequestPasswordResetInput,
  RequestPasswordResetPayload,
  ResetPasswordInput,
  ResetPasswordPayload,
} from './dto';
import { PasswordsService } from './passwords.service';

@Resolver()
export class PasswordsResolver {
  constructor(private readonly passwords: PasswordsService) {}

  @Mutation(() => ChangePasswordPayload, { description: 'Sets a new password (the current one is required); signs out every other session' })
  async changePassword(@CurrentUser() principal: AuthPrincipal, @Args('input') input: ChangePasswordInput): Promise<ChangePasswordPayload> {
    const revoked = await this.passwords.change(principal.userId, principal.sessionId, input.currentPassword, input.newPassword, input.code);
    return { otherSessionsRevoked: revoked };
  }

  @Public()
  @Mutation(() => RequestPasswordResetPayload, { description: 'Emails a reset link if the address has an account' })
  async requestPasswordReset(@Args('input') input: RequestPasswordResetInput): Promise<RequestPasswordResetPayload> {
    await this.passwords.requestReset(input.email);
    return { accepted: true };
  }

  @Public()
  @Mutation(() => ResetPasswordPayload, { description: 'Sets a new password with the token from the emailed link' })
  async resetPassword(@Args('input') input: ResetPasswordInput): Promise<ResetPasswordPayload> {
    await this.passwords.reset(input.token, input.newPassword);
    return { passwordChanged: true };
  }
}
