import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import { ForbiddenError, UnauthenticatedError } from '@multipult/graphql';
import { AuthPrincipal } from './principal';

export const IS_PUBLIC = 'multipult:public';
export const REQUIRED_PERMISSIONS = 'multipult:required-permissions';
export const REQUIRED_PLATFORM_PERMISSIONS = 'multipult:required-platform-permissions';

/** Anonymous callers may use this resolver (a presented token must still be valid). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The caller needs every listed permission in the tenant the request acts in. */
export const RequirePermissions = (...permissions: string[]) => SetMetadata(REQUIRED_PERMISSIONS, permissions);

/** The caller needs every listed permission over the whole installation (from a platform role). */
export const RequirePlatformPermissions = (...permissions: string[]) => SetMetadata(REQUIRED_PLATFORM_PERMISSIONS, permissions);

export type AuthenticatedRequest = Request & { principal?: Promise<AuthPrincipal | null> };

export function requestOf(context: ExecutionContext): AuthenticatedRequest | undefined {
  if (context.getType<GqlContextType>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<{ req?: AuthenticatedRequest }>().req;
  }
  if (context.getType() === 'http') return context.switchToHttp().getRequest<AuthenticatedRequest>();
  return undefined;
}

/** The verified caller; only on resolvers that are not @Public (or that check for it). */
export const CurrentUser = createParamDecorator(async (_data: unknown, context: ExecutionContext) => {
  const principal = await requestOf(context)?.principal;
  if (!principal) throw new UnauthenticatedError();
  return principal;
});

/** The tenant the request acts in; FORBIDDEN when the caller has none selected. */
export const CurrentTenant = createParamDecorator(async (_data: unknown, context: ExecutionContext) => {
  const principal = await requestOf(context)?.principal;
  if (!principal) throw new UnauthenticatedError();
  if (!principal.tenantId) throw new ForbiddenError('errors.tenant_required');
  return principal.tenantId;
});

/** The verified caller, or null for an anonymous request (for @Public resolvers that vary by caller). */
export const OptionalUser = createParamDecorator(
  async (_data: unknown, context: ExecutionContext) => (await requestOf(context)?.principal) ?? null,
);
