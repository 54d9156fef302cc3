import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, Public } from '@multipult/auth';
import { AuthPayload } from '../sessions/dto';
import { markAsViewer } from '../users/viewer';
import { CompleteMfaLoginInput, ConfirmTotpPayload, DisableTotpPayload, TotpEnrollment, TwoFactorCodeInput } from './dto';
import { TwoFactorService } from './two-factor.service';

@Resolver()
export class TwoFactorResolver {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @Mutation(() => TotpEnrollment, { description: 'Starts turning on two-factor sign-in: a new secret, pending until confirmed' })
  enrollTotp(@CurrentUser() principal: AuthPrincipal): Promise<TotpEnrollment> {
    return this.twoFactor.enroll(principal.userId);
  }

  @Mutation(() => ConfirmTotpPayload, { description: 'Turns two-factor sign-in on with a code from the app; answers the backup codes' })
  confirmTotp(@CurrentUser() principal: AuthPrincipal, @Args('input') input: TwoFactorCodeInput): Promise<ConfirmTotpPayload> {
    return this.twoFactor.confirm(principal.userId, input.code);
  }

  @Mutation(() => DisableTotpPayload, { description: 'Turns two-factor sign-in off with a code from the app or a backup code' })
  async disableTotp(@CurrentUser() principal: AuthPrincipal, @Args('input') input: TwoFactorCodeInput): Promise<DisableTotpPayload> {
    await this.twoFactor.disable(principal.userId, input.code);
    return { disabled: true };
  }

  @Mutation(() => ConfirmTotpPayload, { description: 'Replaces the backup codes (the old ones stop working); needs a code or backup code' })
  regenerateBackupCodes(@CurrentUser() principal: AuthPrincipal, @Args('input') input: TwoFactorCodeInput): Promise<ConfirmTotpPayload> {
    return this.twoFactor.regenerateBackupCodes(principal.userId, input.code);
  }

  @Public()
  @Mutation(() => AuthPayload, { description: 'Finishes a sign-in answered MFA_REQUIRED: its challenge token and a code (each works once)' })
  async completeMfaLogin(@Args('input') input: CompleteMfaLoginInput): Promise<AuthPayload> {
    const payload = await this.twoFactor.completeLogin(input.challengeToken, input.code);
    return { ...payload, user: markAsViewer(payload.user) };
  }
}
