import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { RolesResolver } from './roles.resolver';
import { RolesService } from './roles.service';

@Module({ imports: [SessionsModule], providers: [RolesService, RolesResolver], exports: [RolesService] })
export class RolesModule {}
