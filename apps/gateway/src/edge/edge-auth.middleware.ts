import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthenticatedRequest, authenticate } from '@multipult/auth';
import { AppError, ErrorCode, pickLocale, translate } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';

/**
 * Rejects a presented but invalid token (or a tenant the caller does not belong to) at the edge,
 * before any subgraph is called. Anonymous requests pass; subgraphs allow them only @Public fields.
 */
@Injectable()
export class EdgeAuthMiddleware implements NestMiddleware {
  constructor(@Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    try {
      await authenticate(req as AuthenticatedRequest, this.verifier);
      next();
    } catch (error) {
      if (!(error instanceof AppError)) return next(error);
      const status = error.code === ErrorCode.UNAUTHENTICATED ? 401 : 403;
      const locale = pickLocale(RequestContext.current()?.locales);
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      res.status(status).json({
        errors: [
          {
            message: translate(error.messageKey, locale, error.params),
            extensions: { code: error.code, requestId: RequestContext.current()?.requestId },
          },
        ],
      });
    }
  }
}
