import { FastStore } from '@multipult/redis';

/**
 * Revocation marks shared through Redis, so every gateway and subgraph instance refuses a revoked
 * access token on its next request instead of at expiry. Marks expire with the longest-lived token.
 */
export const revocationKeys = {
  session: (sessionId: string) => `auth:revoked:session:${sessionId}`,
  /** Epoch milliseconds: tokens of the user issued before it are refused (ban, password change). */
  userTokensBefore: (userId: string) => `auth:revoked-before:user:${userId}`,
};

export async function revokeSession(store: FastStore, sessionId: string, accessTokenTtlMs: number): Promise<void> {
  await store.set(revocationKeys.session(sessionId), '1', accessTokenTtlMs + 5_000);
}

/**
 * Refuses every token of the user issued up to `at`. `iat` has second precision, so the mark is
 * the next whole second: no token of `at`'s own second survives, and one issued later in that
 * second (a refresh racing the change) is refused for at most a second, then works again.
 */
export async function revokeUserTokensIssuedBefore(
  store: FastStore,
  userId: string,
  at: Date,
  accessTokenTtlMs: number,
): Promise<void> {
  const cutOff = Math.ceil(at.getTime() / 1000) * 1000;
  await store.set(revocationKeys.userTokensBefore(userId), String(cutOff), accessTokenTtlMs + 5_000);
}

/** The marks that revoke a token, as FastStore.admit checks them in one round trip with the edge's limits. */
export function revocationCheckOf(token: { sessionId: string; userId: string; issuedAt: Date }): {
  sessionKey: string;
  userKey: string;
  issuedAtMs: number;
} {
  return {
    sessionKey: revocationKeys.session(token.sessionId),
    userKey: revocationKeys.userTokensBefore(token.userId),
    issuedAtMs: token.issuedAt.getTime(),
  };
}

/**
 * Whether a user's "tokens issued before" mark revokes a token issued at `issuedAtMs`: iat has second
 * precision and the mark is a whole second (see revokeUserTokensIssuedBefore).
 */
export function revokedByUserMark(issuedAtMs: number, userMark: string): boolean {
  return issuedAtMs + 1000 <= Number(userMark);
}

export async function isRevoked(
  store: FastStore,
  token: { sessionId: string; userId: string; issuedAt: Date },
): Promise<boolean> {
  const [sessionMark, userMark] = await store.getMany([
    revocationKeys.session(token.sessionId),
    revocationKeys.userTokensBefore(token.userId),
  ]);
  return sessionMark !== null || (userMark !== null && revokedByUserMark(token.issuedAt.getTime(), userMark));
}
