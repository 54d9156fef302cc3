import { Module } from '@nestjs/common';
import { RolesModule } from '../roles/roles.module';
import { TenantSettingsModule } from '../tenant-settings/tenant-settings.module';
import { InvitationsResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';

@Module({ imports: [RolesModule, TenantSettingsModule], providers: [InvitationsService, InvitationsResolver] })
export class InvitationsModule {}
