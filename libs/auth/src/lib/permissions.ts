/** Permissions are `resource:action`; a grant of `resource:*` or `*` covers every matching action. */
export function hasPermission(granted: readonly string[], required: string): boolean {
  const [resource] = required.split(':');
  return granted.some((grant) => grant === '*' || grant === required || grant === `${resource}:*`);
}

export function missingPermissions(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((permission) => !hasPermission(granted, permission));
}

const PERMISSION_PATTERN = /^(\*|[a-z][a-z0-9_-]*:(\*|[a-z][a-z0-9_-]*))$/;

export function isPermission(value: string): boolean {
  return PERMISSION_PATTERN.test(value);
}

/**
 * Whether grants hold a permission entirely, wildcards included: `*` only by `*`, `content:*`
 * by `*` or `content:*`, a single permission as hasPermission says. What may be handed on
 * (roles, API key scopes) is what the giver holds this way.
 */
export function coversPermission(granted: readonly string[], permission: string): boolean {
  if (permission === '*') return granted.includes('*');
  const [resource, action] = permission.split(':');
  if (action === '*') return granted.includes('*') || granted.includes(`${resource}:*`);
  return hasPermission(granted, permission);
}
