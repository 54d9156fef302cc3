import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { TwoFactorResolver } from './two-factor.resolver';
import { TwoFactorService } from './two-factor.service';

@Module({ imports: [SessionsModule], providers: [TwoFactorService, TwoFactorResolver], exports: [TwoFactorService] })
export class TwoFactorModule {}
