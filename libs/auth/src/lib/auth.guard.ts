import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlContextType } from '@nestjs/graphql';
import { ForbiddenError, UnauthenticatedError } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { AccessTokenVerifier, bearerToken } from './access-token-verifier';
import { apiKeyOf } from './api-keys';
import { AuthenticatedRequest, IS_PUBLIC, REQUIRED_PERMISSIONS, REQUIRED_PLATFORM_PERMISSIONS, requestOf } from './decorators';
import { missingPermissions } from './permissions';
import { AuthPrincipal } from './principal';

export const ACCESS_TOKEN_VERIFIER = Symbol('ACCESS_TOKEN_VERIFIER');
export const TENANT_HEADER = 'x-tenant-id';

/** Switches the request to another tenant of the caller; refuses tenants the caller is not a member of. */
export function actInTenant(principal: AuthPrincipal, tenantHeader: string | string[] | undefined): AuthPrincipal {
  const tenantId = Array.isArray(tenantHeader) ? tenantHeader[0] : tenantHeader;
  if (!tenantId || tenantId === principal.tenantId) return principal;
  const permissions = principal.memberships[tenantId];
  if (!permissions) throw new ForbiddenError('errors.not_a_member');
  return { ...principal, tenantId, permissions };
}

/** Verifies the request's token once (all resolvers of a request share the result). */
export function authenticate(req: AuthenticatedRequest, verifier: AccessTokenVerifier): Promise<AuthPrincipal | null> {
  req.principal ??= (async () => {
    const apiKey = apiKeyOf(req.headers);
    const token = apiKey === undefined ? bearerToken(req.headers.authorization) : undefined;
    if (apiKey === undefined && !token) return null;
    const verified = apiKey === undefined ? await verifier.verify(token as string) : await verifier.verifyApiKey(apiKey);
    const principal = actInTenant(verified, req.headers[TENANT_HEADER]);
    RequestContext.patch({
      userId: principal.userId,
      tenantId: principal.tenantId ?? undefined,
      sessionId: principal.sessionId,
    });
    return principal;
  })();
  return req.principal;
}

/**
 * Starts verifying the request's token without waiting for it, so everything that runs without a
 * guard (field resolvers, federation `_entities`) finds `req.principal`; failures surface where the
 * principal is awaited (guard, decorators), as UNAUTHENTICATED.
 */
export function startAuthentication(req: AuthenticatedRequest, verifier: AccessTokenVerifier): void {
  authenticate(req, verifier).catch(() => undefined);
}

/**
 * Guards every GraphQL resolver: a presented token must be valid, anonymous callers reach only
 * @Public resolvers, @RequirePermissions is checked in the request's tenant and
 * @RequirePlatformPermissions against the caller's platform roles. Plain HTTP
 * routes (health, metrics, JWKS) are infrastructure and stay open.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<GqlContextType>() !== 'graphql') return true;
    const req = requestOf(context);
    if (!req) return true;
    const principal = await authenticate(req, this.verifier);
    const targets = [context.getHandler(), context.getClass()];
    if (!principal) {
      if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
      throw new UnauthenticatedError();
    }
    const required = this.reflector.getAllAndMerge<string[]>(REQUIRED_PERMISSIONS, targets) ?? [];
    const missing = missingPermissions(principal.permissions, required);
    if (missing.length) throw new ForbiddenError('errors.missing_permission', { permission: missing.join(', ') });
    const requiredPlatform = this.reflector.getAllAndMerge<string[]>(REQUIRED_PLATFORM_PERMISSIONS, targets) ?? [];
    const missingPlatform = missingPermissions(principal.platformPermissions, requiredPlatform);
    if (missingPlatform.length) throw new ForbiddenError('errors.missing_permission', { permission: missingPlatform.join(', ') });
    return true;
  }
}
