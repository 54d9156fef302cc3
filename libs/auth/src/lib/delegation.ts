import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';

/**
 * Delegated access: a service acting for a user later than the user's own request (an export job
 * reading documents as the user who asked for it) trades a short assertion signed with the
 * installation's internal secret (a JWT bearer assertion, RFC 7523) for an ordinary access token
 * from the issuer. The token carries the user's current permissions in the tenant, cut down to what
 * the registry lets the calling service delegate, and names the service as actor (`act`, RFC 8693),
 * so every other service verifies and authorizes it like any token, with no change of its own.
 */
export const DELEGATION_PATH = '/internal/delegated-tokens';
const ASSERTION_AUDIENCE = 'multipult:delegation';
const ASSERTION_TYPE = 'delegation+jwt';
const ASSERTION_TTL_SECONDS = 60;

/** Development default; a production service refuses to start with it. */
export const DEVELOPMENT_INTERNAL_API_SECRET = 'development-only-internal-api-secret-change-me';

/** Variables of services that request or grant delegated tokens. */
export const delegationEnv = {
  /** Shared by the platform's services (never by clients): signs delegation assertions (HS256); ≥ 32 characters. */
  INTERNAL_API_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_INTERNAL_API_SECRET),
};

export function requireInternalSecretInProduction<T extends { NODE_ENV: string; INTERNAL_API_SECRET: string }>(
  config: T,
  ctx: z.RefinementCtx,
): void {
  if (config.NODE_ENV === 'production' && config.INTERNAL_API_SECRET === DEVELOPMENT_INTERNAL_API_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['INTERNAL_API_SECRET'], message: 'must be set in production' });
  }
}

export interface DelegationRequest {
  /** The registry name of the service asking. */
  service: string;
  userId: string;
  tenantId: string;
  /** Permissions wanted; the token holds those of them the user has and the service may delegate. */
  scope: string[];
}

export interface VerifiedDelegationRequest extends DelegationRequest {
  assertionId: string;
}

export interface DelegatedToken {
  accessToken: string;
  expiresIn: number;
  /** Who the token acts for, so the caller can name them (a watermark, a title page). */
  user: { id: string; email: string; displayName: string };
  permissions: string[];
}

export class DelegationError extends Error {
  constructor(
    readonly status: 401 | 403 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'DelegationError';
  }
}

const key = (secret: string) => new TextEncoder().encode(secret);

export function signDelegationAssertion(secret: string, request: DelegationRequest): Promise<string> {
  return new SignJWT({ tid: request.tenantId, scope: request.scope })
    .setProtectedHeader({ alg: 'HS256', typ: ASSERTION_TYPE })
    .setIssuer(request.service)
    .setSubject(request.userId)
    .setAudience(ASSERTION_AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ASSERTION_TTL_SECONDS}s`)
    .sign(key(secret));
}

const assertionClaims = z.object({
  iss: z.string().min(1),
  sub: z.uuid(),
  tid: z.uuid(),
  jti: z.string().min(1),
  scope: z.array(z.string()).max(50),
});

/** The request an assertion makes; 401 when it is not one of ours or has expired. */
export async function verifyDelegationAssertion(secret: string, assertion: string): Promise<VerifiedDelegationRequest> {
  try {
    const { payload } = await jwtVerify(assertion, key(secret), {
      algorithms: ['HS256'],
      audience: ASSERTION_AUDIENCE,
      typ: ASSERTION_TYPE,
      maxTokenAge: ASSERTION_TTL_SECONDS,
    });
    const claims = assertionClaims.parse(payload);
    return { service: claims.iss, userId: claims.sub, tenantId: claims.tid, scope: claims.scope, assertionId: claims.jti };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof z.ZodError) throw new DelegationError(401, 'invalid delegation assertion');
    throw error;
  }
}

export interface DelegatedAccessOptions {
  service: string;
  secret: string;
  /** The issuer's origin, e.g. the origin of AUTH_JWKS_URL. */
  issuerUrl: string;
  scope: string[];
  timeoutMs?: number;
}

/**
 * Client side: tokens acting for a user, cached per user and tenant until shortly before they
 * expire, so a job reading a thousand documents asks the issuer once.
 */
export class DelegatedAccess {
  private readonly logger = new Logger(DelegatedAccess.name);
  private readonly cache = new Map<string, { token: DelegatedToken; renewAt: number }>();

  constructor(private readonly options: DelegatedAccessOptions) {}

  async tokenFor(userId: string, tenantId: string): Promise<DelegatedToken> {
    const cacheKey = `${userId}:${tenantId}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.renewAt > Date.now()) return cached.token;
    const assertion = await signDelegationAssertion(this.options.secret, {
      service: this.options.service,
      userId,
      tenantId,
      scope: this.options.scope,
    });
    const response = await fetch(new URL(DELEGATION_PATH, this.options.issuerUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assertion }),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      const body = (await response.json().catch(() => ({}))) as { message?: string };
      throw new DelegationError(response.status, body.message ?? `delegation refused (${response.status})`);
    }
    if (!response.ok) throw new Error(`delegation failed: HTTP ${response.status}`);
    const token = (await response.json()) as DelegatedToken;
    // Renewed at half its life: a token handed to a long request never expires mid-way.
    this.cache.set(cacheKey, { token, renewAt: Date.now() + (token.expiresIn * 1000) / 2 });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    this.logger.debug({ userId, tenantId }, 'delegated token obtained');
    return token;
  }

  /** Forgets a user's token (their rights changed, or a call was refused with it). */
  forget(userId: string, tenantId: string): void {
    this.cache.delete(`${userId}:${tenantId}`);
  }
}
