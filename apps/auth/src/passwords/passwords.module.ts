import { Module } from '@nestjs/common';
import { OneTimeTokensModule } from '../one-time-tokens/one-time-tokens.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { UsersModule } from '../users/users.module';
import { PasswordsResolver } from './passwords.resolver';
import { PasswordsService } from './passwords.service';

@Module({ imports: [OneTimeTokensModule, UsersModule, SessionsModule, TwoFactorModule], providers: [PasswordsService, PasswordsResolver] })
export class PasswordsModule {}
