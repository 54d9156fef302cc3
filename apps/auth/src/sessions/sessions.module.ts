import { Module } from '@nestjs/common';
import { EmailVerificationModule } from '../email-verification/email-verification.module';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';
import { UsersModule } from '../users/users.module';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { CredentialCutOff } from './credential-cut-off';
import { LoginThrottle } from './login-throttle';
import { MfaChallenges } from './mfa-challenges';
import { SessionRevoker } from './session-revoker';
import { SessionsResolver } from './sessions.resolver';
import { Registrations } from './registrations';
import { SessionsService } from './sessions.service';

@Module({
  imports: [SigningKeysModule, UsersModule, EmailVerificationModule, ApiKeysModule],
  providers: [SessionsService, SessionsResolver, SessionRevoker, LoginThrottle, MfaChallenges, CredentialCutOff, Registrations],
  exports: [SessionsService, SessionRevoker, LoginThrottle, MfaChallenges, CredentialCutOff],
})
export class SessionsModule {}
