/** Claims of a Multipult access token (a JWT signed by the auth service, `typ: at+jwt`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  sub: string;
  /** Session (refresh token family) the token belongs to; revoking it revokes the token. */
  sid: string;
  /** Active tenant, null for a user without one. */
  tid: string | null;
  /** Permissions per tenant the user belongs to (capped, see the auth service). */
  ten: Record<string, string[]>;
  /** Platform permissions (operators of the installation, above tenants); absent for most users. */
  pla?: string[];
  jti: string;
  iat: number;
  exp: number;
}

/** The verified caller of a request. */
export interface AuthPrincipal {
  userId: string;
  sessionId: string;
  tokenId: string;
  /** The tenant this request acts in: the token's active tenant or a member tenant named by `x-tenant-id`. */
  tenantId: string | null;
  /** Permissions in `tenantId`. */
  permissions: string[];
  /** Every tenant the caller belongs to, with its permissions there. */
  memberships: Record<string, string[]>;
  /** Permissions over the whole installation (admin API, audit), from the user's platform roles. */
  platformPermissions: string[];
  issuedAt: Date;
  expiresAt: Date;
  /** How the caller proved who they are: a session's access token or an API key (`sessionId` is then the key's id). */
  credential: 'access_token' | 'api_key';
}

export function principalFromClaims(claims: AccessTokenClaims): AuthPrincipal {
  const memberships = claims.ten ?? {};
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    tokenId: claims.jti,
    tenantId: claims.tid ?? null,
    permissions: claims.tid ? (memberships[claims.tid] ?? []) : [],
    memberships,
    platformPermissions: claims.pla ?? [],
    issuedAt: new Date(claims.iat * 1000),
    expiresAt: new Date(claims.exp * 1000),
    credential: 'access_token',
  };
}
