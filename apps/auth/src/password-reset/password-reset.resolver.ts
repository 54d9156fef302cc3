import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Public } from '@multipult/auth';
import { RequestPasswordResetInput, RequestPasswordResetPayload, ResetPasswordInput, ResetPasswordPayload } from './dto';
import { PasswordResetService } from './password-reset.service';

@Resolver()
export class PasswordResetResolver {
  constructor(private readonly passwordReset: PasswordResetService) {}

  @Public()
  @Mutation(() => RequestPasswordResetPayload, { description: 'Emails a reset link if the address has an account' })
  async requestPasswordReset(@Args('input') input: RequestPasswordResetInput): Promise<RequestPasswordResetPayload> {
    await this.passwordReset.request(input.email);
    return { accepted: true };
  }

  @Public()
  @Mutation(() => ResetPasswordPayload, { description: 'Sets a new password with the token from the emailed link' })
  async resetPassword(@Args('input') input: ResetPasswordInput): Promise<ResetPasswordPayload> {
    await this.passwordReset.reset(input.token, input.newPassword);
    return { passwordChanged: true };
  }
}
