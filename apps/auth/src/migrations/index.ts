import { CreateAuthSchema1732400000001 } from './1732400000001-create-auth-schema';
import { AddUsernames1732400000002 } from './1732400000002-add-usernames';
import { AddEmailVerificationAndPasswordReset1732400000003 } from './1732400000003-add-email-verification-and-password-reset';
import { CreateTenantInvitations1732400000004 } from './1732400000004-create-tenant-invitations';
import { AddPlatformRolesBansAndAuditLog1732400000005 } from './1732400000005-add-platform-roles-bans-and-audit-log';
import { AddTenantSettings1732400000006 } from './1732400000006-add-tenant-settings';
import { CreatePrivacySagas1732400000007 } from './1732400000007-create-privacy-sagas';
import { AddTwoFactor1732400000008 } from './1732400000008-add-two-factor';
import { CreateApiKeys1732400000009 } from './1732400000009-create-api-keys';
import { MembersAgents1732400000012 } from './1732400000012-members-agents';
import { MembersExport1732400000011 } from './1732400000011-members-export';
import { CreateUserIdentities1732400000010 } from './1732400000010-create-user-identities';

/** The auth schema's migrations in the order they run; the kit adds the event tables before them. */
export const authMigrations = [
  CreateAuthSchema1732400000001,
  AddUsernames1732400000002,
  AddEmailVerificationAndPasswordReset1732400000003,
  CreateTenantInvitations1732400000004,
  AddPlatformRolesBansAndAuditLog1732400000005,
  AddTenantSettings1732400000006,
  CreatePrivacySagas1732400000007,
  AddTwoFactor1732400000008,
  CreateApiKeys1732400000009,
  CreateUserIdentities1732400000010,
  MembersExport1732400000011,
  MembersAgents1732400000012,
];
