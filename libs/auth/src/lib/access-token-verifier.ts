import { Logger } from '@nestjs/common';
import { JWTVerifyGetKey, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
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
}

/**
 * Verifies access tokens: signature against the auth service's keys (only EdDSA, so `alg: none`
 * and algorithm confusion are impossible), type, issuer, audience, expiry, then revocation.
 */
export class AccessTokenVerifier {
  private readonly logger = new Logger(AccessTokenVerifier.name);

  constructor(private readonly options: AccessTokenVerifierOptions) {}

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

  async verify(token: string): Promise<AuthPrincipal> {
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
    if (await isRevoked(this.options.store, principal)) throw new UnauthenticatedError('errors.session_revoked');
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
