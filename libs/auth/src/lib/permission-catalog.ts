import { REGISTERED_TENANT_PERMISSIONS } from '@multipult/registry';

/**
 * Every tenant permission a service checks, so custom roles are built from real permissions (a
 * typo would grant nothing) and clients can offer them. Each service lists its own in the service
 * registry (libs/registry/src/services.json).
 */
export const TENANT_PERMISSIONS: Readonly<Record<string, string>> = REGISTERED_TENANT_PERMISSIONS;

/**
 * Whether a permission names catalogued ones: itself, a catalogued resource's `resource:*`, or
 * `*` for everything.
 */
export function isCataloguedPermission(permission: string): boolean {
  if (permission === '*' || permission in TENANT_PERMISSIONS) return true;
  const [resource, action] = permission.split(':');
  return action === '*' && Object.keys(TENANT_PERMISSIONS).some((known) => known.startsWith(`${resource}:`));
}
