import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminResolver } from './admin.resolver';
import { AdminService } from './admin.service';

@Module({ imports: [SessionsModule], providers: [AdminService, AdminResolver], exports: [AdminService] })
export class AdminModule {}
