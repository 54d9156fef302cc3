import { Module } from '@nestjs/common';
import { RolesModule } from '../roles/roles.module';
import { TenantSettingsModule } from '../tenant-settings/tenant-settings.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TenantsResolver } from './tenants.resolver';
import { TenantsService } from './tenants.service';

@Module({
  imports: [SessionsModule, RolesModule, TenantSettingsModule],
  providers: [TenantsService, TenantsResolver],
})
export class TenantsModule {}
