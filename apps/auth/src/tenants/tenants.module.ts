import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { TenantsResolver } from './tenants.resolver';
import { TenantsService } from './tenants.service';

@Module({
  imports: [SessionsModule],
  providers: [TenantsService, TenantsResolver],
})
export class TenantsModule {}
