import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, Public } from '@multipult/auth';
import { EmailTokenInput, RequestEmailVerificationPayload, VerifyEmailPayload } from './dto';
import { EmailVerificationService } from './email-verification.service';

@Resolver()
export class EmailVerificationResolver {
  constructor(private readonly emailVerification: EmailVerificationService) {}

  @Mutation(() => RequestEmailVerificationPayload, { description: 'Emails a new confirmation link (earlier links stop working)' })
  async requestEmailVerification(@CurrentUser() principal: AuthPrincipal): Promise<RequestEmailVerificationPayload> {
    return { expiresAt: await this.emailVerification.request(principal.userId) };
  }

  @Public()
  @Mutation(() => VerifyEmailPayload, { description: 'Confirms the address with the token from the emailed link' })
  async verifyEmail(@Args('input') input: EmailTokenInput): Promise<VerifyEmailPayload> {
    return { user: await this.emailVerification.verify(input.token) };
  }
}
