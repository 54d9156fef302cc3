import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { OidcResolver } from './oidc.resolver';
import { OidcService } from './oidc.service';

@Module({ imports: [SessionsModule], providers: [OidcService, OidcResolver] })
export class OidcModule {}
