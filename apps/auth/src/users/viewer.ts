import { User } from './user.entity';

/**
 * Users returned by register/login/refresh to the person who just proved to be them, while the
 * request itself is still anonymous; their private fields may be shown.
 */
const authenticatedInThisResponse = new WeakSet<User>();

export function markAsViewer(user: User): User {
  authenticatedInThisResponse.add(user);
  return user;
}

export function isViewer(user: User, viewerId: string | undefined): boolean {
  return user.id === viewerId || authenticatedInThisResponse.has(user);
}
