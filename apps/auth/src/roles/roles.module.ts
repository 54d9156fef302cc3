import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { RolesResolver } from './roles.resolver';
import { RolesService } from './roles.service';

@Module({ imports: [ApiKeysModule], providers: [RolesService, RolesResolver], exports: [RolesService] })
export class RolesModule {}
