import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminResolver } from './admin.resolver';
import { AdminService } from './admin.service';

@Module({ imports: [SessionsModule, ApiKeysModule], providers: [AdminService, AdminResolver], exports: [AdminService] })
export class AdminModule {}
