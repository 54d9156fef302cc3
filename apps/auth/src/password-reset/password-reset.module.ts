import { Module } from '@nestjs/common';
import { OneTimeTokensModule } from '../one-time-tokens/one-time-tokens.module';
import { UsersModule } from '../users/users.module';
import { PasswordResetResolver } from './password-reset.resolver';
import { PasswordResetService } from './password-reset.service';

@Module({ imports: [OneTimeTokensModule, UsersModule], providers: [PasswordResetService, PasswordResetResolver] })
export class PasswordResetModule {}
