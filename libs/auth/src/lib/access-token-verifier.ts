import { Logger } from '@nestjs/common';
import { JWTVerifyGetKey, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { UnauthenticatedError } from '@multipult/graphql';
import { FastStore } from '@multipult/redis';
import { AccessTokenClaims, AuthPrincipal, principalFromClaims } from './principal';
import { verifyApiKey } from './api-keys';
import { isRevoked } from './revocation';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

export interface AccessTokenVerifierOptions {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  store: FastStore;
  /** How many verified tokens to remember (0: verify every time); see verifySignature. */
  cachedTokens?: number;
}

const DEFAULT_CACHED_TOKENS = 10_000;

/**
 * Verifies access tokens: signature against the auth service's keys (only EdDSA, so `alg: none`
 * and algorithm confusion are impossible), type, issuer, audience, expiry, then revocation.
 */
export class AccessTokenVerifier {
  private readonly logger = new Logger(AccessTokenVerifier.name);
  private readonly verified: LRUCache<string, AuthPrincipal> | undefined;

  constructor(private readonly options: AccessTokenVerifierOptions) {
    const max = options.cachedTokens ?? DEFAULT_CACHED_TOKENS;
    this.verified = max > 0 ? new LRUCache({ max }) : undefined;
  }

  /** Keys from a JWKS URL, cached; an unknown `kid` triggers a refetch (at most every 30 s). */
  static remoteKeys(jwksUrl: string): JWTVerifyGetKey {
    return createRemoteJWKSet(new URL(jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 3_000,
    });
  }

  /** An API key's caller (see api-keys.ts); keys live in the same shared store as revocations. */
  verifyApiKey(key: string): Promise<AuthPrincipal> {
    return verifyApiKey(this.options.store, key);
  }

  /** The token's caller, refused when revoked (checked on every call). */
  async verify(token: string): Promise<AuthPrincipal> {
    const principal = await this.verifySignature(token);
    if (await isRevoked(this.options.store, principal)) throw new UnauthenticatedError('errors.session_revoked');
    return principal;
  }

  /**
   * Signature, type, issuer, audience and expiry, without revocation (the caller checks it, as
   * verify does, or in one round trip with the rest of the edge's checks). A verified token is
   * remembered until it expires, so a client's repeated requests cost a map lookup instead of an
   * EdDSA verification; the principal is shared and must not be changed.
   */
  async verifySignature(token: string): Promise<AuthPrincipal> {
    const remembered = this.verified?.get(token);
    if (remembered) return remembered;
    let claims: AccessTokenClaims;
    try {
      const { payload } = await jwtVerify(token, this.options.keys, {
        algorithms: [ACCESS_TOKEN_ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
        clockTolerance: 5,
      });
      claims = payload as unknown as AccessTokenClaims;
    } catch (error) {
      if (!(error instanceof joseErrors.JOSEError)) this.logger.error({ err: error }, 'token verification failed');
      else this.logger.debug({ reason: (error as joseErrors.JOSEError).code }, 'token refused');
      throw new UnauthenticatedError('errors.invalid_token');
    }
    const principal = principalFromClaims(claims);
    const ttl = principal.expiresAt.getTime() - Date.now();
    if (ttl > 0) this.verified?.set(token, principal, { ttl });
    return principal;
  }
}

/** The bearer token of an Authorization header, or undefined when there is none. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const [scheme, token] = value.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'bearer' || !token) throw new UnauthenticatedError('errors.invalid_token');
  return token;
}
