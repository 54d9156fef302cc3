import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthenticatedRequest, authenticate } from '@multipult/auth';
import { AppError, httpErrorResponse } from '@multipult/graphql';

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
      const { status, body } = httpErrorResponse(error);
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      res.status(status).json(body);
    }
  }
}
