import { Module } from '@nestjs/common';
import { TenantSettingsResolver } from './tenant-settings.resolver';
import { TenantSettingsService } from './tenant-settings.service';

@Module({ providers: [TenantSettingsService, TenantSettingsResolver], exports: [TenantSettingsService] })
export class TenantSettingsModule {}
