import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthenticatedRequest, authenticate } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { ErrorCode, pickLocale, translate } from '@multipult/graphql';
import { RequestContext, counter } from '@multipult/observability';
import { FAST_STORE, FastStore, RateLimitDecision } from '@multipult/redis';
import type { GatewayConfig } from '../config';

const rateLimited = () =>
  counter({ name: 'gateway_rate_limited_total', help: 'Requests refused by rate limits', labelNames: ['scope'] as const });

/**
 * Sliding-window limits in Redis, shared by every gateway replica: per client IP (also for
 * anonymous callers and invalid tokens) and per user. The tighter of the two decides the headers.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly logger = new Logger(RateLimitMiddleware.name);
  private readonly allowlist: Set<string>;
  private readonly windowMs: number;

  constructor(
    @Inject(FAST_STORE) private readonly store: FastStore,
    @InjectConfig() private readonly config: GatewayConfig,
    @Inject(ACCESS_TOKEN_VERIFIER) private readonly verifier: AccessTokenVerifier,
  ) {
    this.allowlist = new Set(config.RATE_LIMIT_ALLOWLIST);
    this.windowMs = config.RATE_LIMIT_WINDOW_SECONDS * 1000;
    // Registered at start, not on the first refusal, so dashboards find the series from the start.
    rateLimited();
  }

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const ip = req.ip ?? 'unknown';
    if (this.allowlist.has(ip)) return next();
    let principalUserId: string | undefined;
    try {
      principalUserId = (await authenticate(req as AuthenticatedRequest, this.verifier))?.userId;
    } catch {
      // An invalid token counts against the IP only; EdgeAuthMiddleware answers it next.
      principalUserId = undefined;
    }
    if (principalUserId && this.allowlist.has(principalUserId)) return next();

    let decisions: { scope: string; decision: RateLimitDecision }[];
    try {
      decisions = [{ scope: 'ip', decision: await this.store.hitSlidingWindow(`rl:ip:${ip}`, this.config.RATE_LIMIT_PER_IP, this.windowMs) }];
      if (principalUserId) {
        decisions.push({
          scope: 'user',
          decision: await this.store.hitSlidingWindow(`rl:user:${principalUserId}`, this.config.RATE_LIMIT_PER_USER, this.windowMs),
        });
      }
    } catch (error) {
      // Failing open: an unreachable Redis must not take the whole API down; readiness reports it.
      this.logger.error({ err: error }, 'rate limit store unavailable');
      return next();
    }

    const refused = decisions.find(({ decision }) => !decision.allowed);
    const tightest = refused ?? decisions.reduce((a, b) => (b.decision.remaining < a.decision.remaining ? b : a));
    res.setHeader('X-RateLimit-Limit', String(tightest.decision.limit));
    res.setHeader('X-RateLimit-Remaining', String(tightest.decision.remaining));
    res.setHeader('X-RateLimit-Reset', String(Math.ceil(tightest.decision.resetMs / 1000)));
    if (!refused) return next();

    const retryAfterSeconds = Math.max(1, Math.ceil(refused.decision.retryAfterMs / 1000));
    rateLimited().inc({ scope: refused.scope });
    this.logger.warn({ scope: refused.scope, ip, userId: principalUserId }, 'rate limited');
    res.setHeader('Retry-After', String(retryAfterSeconds));
    res.status(429).json({
      errors: [
        {
          message: translate('errors.rate_limited', pickLocale(RequestContext.current()?.locales), { retryAfterSeconds }),
          extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds, requestId: RequestContext.current()?.requestId },
        },
      ],
    });
  }
}
