import { Module } from '@nestjs/common';
import { EmailVerificationModule } from '../email-verification/email-verification.module';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';
import { UsersModule } from '../users/users.module';
import { LoginThrottle } from './login-throttle';
import { MfaChallenges } from './mfa-challenges';
import { SessionRevoker } from './session-revoker';
import { SessionsResolver } from './sessions.resolver';
import { SessionsService } from './sessions.service';

@Module({
  imports: [SigningKeysModule, UsersModule, EmailVerificationModule],
  providers: [SessionsService, SessionsResolver, SessionRevoker, LoginThrottle, MfaChallenges],
  exports: [SessionsService, SessionRevoker, LoginThrottle, MfaChallenges],
})
export class SessionsModule {}
