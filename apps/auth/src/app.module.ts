import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import { FilesModule } from '@multipult/files';
import type { AuthConfig } from './config';
import { EmailVerificationModule } from './email-verification/email-verification.module';
import { InvitationsModule } from './invitations/invitations.module';
import { AdminModule } from './admin/admin.module';
import { AuditEntry } from './audit/audit-entry.entity';
import { AuditApiModule, AuditModule } from './audit/audit.module';
import { authMigrations } from './migrations';
import { registerAuthMessages } from './messages';
import { PrivacyModule } from './privacy/privacy.module';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { OidcModule } from './oidc/oidc.module';
import { RolesModule } from './roles/roles.module';
import { TwoFactorModule } from './two-factor/two-factor.module';
import { TenantSettingsModule } from './tenant-settings/tenant-settings.module';
import { PasswordsModule } from './passwords/passwords.module';
import { RefreshToken } from './sessions/refresh-token.entity';
import { Session } from './sessions/session.entity';
import { SessionsModule } from './sessions/sessions.module';
import { SigningKey } from './signing-keys/signing-key.entity';
import { SigningKeyService } from './signing-keys/signing-key.service';
import { DelegationModule } from './delegation/delegation.module';
import { SigningKeysModule } from './signing-keys/signing-keys.module';
import { Membership } from './tenants/membership.entity';
import { Role } from './tenants/role.entity';
import { Tenant } from './tenants/tenant.entity';
import { TenantsModule } from './tenants/tenants.module';
import { User } from './users/user.entity';
import { UsersModule } from './users/users.module';

export const AUTH_SERVICE = 'auth';

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    registerAuthMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({
          service: AUTH_SERVICE,
          config,
          entities: [User, Tenant, Role, Membership, Session, RefreshToken, SigningKey, AuditEntry],
          migrations: authMigrations,
          auth: {
            keys: {
              imports: [SigningKeysModule],
              inject: [SigningKeyService],
              useFactory: (signingKeys: SigningKeyService) => signingKeys.verificationKeys,
            },
          },
        }),
        FilesModule.forRoot({ service: AUTH_SERVICE }),
        AuditModule,
        AuditApiModule,
        SigningKeysModule,
        UsersModule,
        EmailVerificationModule,
        PasswordsModule,
        SessionsModule,
        TenantsModule,
        RolesModule,
        TenantSettingsModule,
        InvitationsModule,
        AdminModule,
        PrivacyModule,
        TwoFactorModule,
        ApiKeysModule,
        OidcModule,
        DelegationModule,
      ],
    };
  }
}
