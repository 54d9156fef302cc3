import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { UsersModule } from '../users/users.module';
import { DataExportFiles } from './data-export-files';
import { PrivacyResolver } from './privacy.resolver';
import { PrivacyService } from './privacy.service';

@Module({ imports: [SessionsModule, UsersModule, TwoFactorModule], providers: [PrivacyService, DataExportFiles, PrivacyResolver] })
export class PrivacyModule {}
