import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AuthenticatedRequest, recordTenantRequest } from '@multipult/auth';
import { FAST_STORE, FastStore } from '@multipult/redis';

/**
 * Counts each authenticated GraphQL request against the tenant it acts in (tenant usage, shown by
 * the auth service). Runs after EdgeAuthMiddleware, so the caller is known; counting never delays
 * or fails the request.
 */
@Injectable()
export class TenantUsageMiddleware implements NestMiddleware {
  private readonly logger = new Logger(TenantUsageMiddleware.name);

  constructor(@Inject(FAST_STORE) private readonly store: FastStore) {}

  async use(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const principal = await (req as AuthenticatedRequest).principal?.catch(() => null);
    if (principal?.tenantId && req.method === 'POST') {
      recordTenantRequest(this.store, principal.tenantId).catch((error: unknown) => this.logger.warn({ err: error }, 'tenant usage not counted'));
    }
    next();
  }
}
