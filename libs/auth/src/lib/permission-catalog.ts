/**
 * Every tenant permission a service checks, so custom roles are built from real permissions (a
 * typo would grant nothing) and clients can offer them. A service adding a check adds it here.
 */
export const TENANT_PERMISSIONS: Readonly<Record<string, string>> = {
  'tenant:read': 'See the tenant and its members',
  'tenant:manage_members': 'Invite, add and remove members and change their roles',
  'tenant:manage_roles': 'Create, change and delete custom roles',
  'tenant:manage_settings': 'Change the tenant settings',
  'audit:read': "Read and export the tenant's audit log",
  'content:read': 'Read documents, comments and collections',
  'content:write': 'Create and edit documents, comments and collections',
  'content:publish': 'Publish documents',
  'content:moderate': "Edit or remove other members' content",
  'notifications:read': 'Receive and read notifications',
  'notifications:announce': 'Publish announcements to the tenant',
  'webhooks:manage': 'Manage webhook endpoints and deliveries',
};

/**
 * Whether a permission names catalogued ones: itself, a catalogued resource's `resource:*`, or
 * `*` for everything.
 */
export function isCataloguedPermission(permission: string): boolean {
  if (permission === '*' || permission in TENANT_PERMISSIONS) return true;
  const [resource, action] = permission.split(':');
  return action === '*' && Object.keys(TENANT_PERMISSIONS).some((known) => known.startsWith(`${resource}:`));
}
