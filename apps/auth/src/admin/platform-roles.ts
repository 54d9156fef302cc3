import { registerEnumType } from '@nestjs/graphql';

/**
 * Roles over the whole installation, above tenants: the operators' own. Their permissions guard
 * the admin API (@RequirePlatformPermissions) and travel in access tokens as `pla`.
 */
export enum PlatformRole {
  PLATFORM_ADMIN = 'platform_admin',
  SUPPORT = 'support',
  AUDITOR = 'auditor',
}
registerEnumType(PlatformRole, {
  name: 'PlatformRole',
  valuesMap: {
    PLATFORM_ADMIN: { description: 'Everything, including bans, deletion and platform roles' },
    SUPPORT: { description: 'Reads users, statistics and the audit log' },
    AUDITOR: { description: 'Reads the audit log' },
  },
});

export const PLATFORM_ROLE_PERMISSIONS: Record<PlatformRole, readonly string[]> = {
  [PlatformRole.PLATFORM_ADMIN]: ['*'],
  [PlatformRole.SUPPORT]: ['users:read', 'stats:read', 'audit:read'],
  [PlatformRole.AUDITOR]: ['audit:read'],
};

export function isPlatformRole(value: string): value is PlatformRole {
  return Object.values<string>(PlatformRole).includes(value);
}

export function platformPermissionsOf(roles: readonly string[]): string[] {
  return [...new Set(roles.filter(isPlatformRole).flatMap((role) => PLATFORM_ROLE_PERMISSIONS[role]))];
}
