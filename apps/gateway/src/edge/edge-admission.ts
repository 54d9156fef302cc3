import { Inject, Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ACCESS_TOKEN_VERIFIER,
  AccessTokenVerifier,
  AuthPrincipal,
  AuthenticatedRequest,
  TENANT_HEADER,
  actInTenant,
  apiKeyOf,
  bearerToken,
  revocationCheckOf,
  tenantRequestCounters,
} from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { AppError, ErrorCode, UnauthenticatedError, httpErrorResponse, pickLocale, translate } from '@multipult/graphql';
import { RequestContext, counter } from '@multipult/observability';
import { AdmissionDecision, FAST_STORE, FastStore, RateLimitDecision } from '@multipult/redis';
import type { GatewayConfig } from '../config';

const rateLimited = () =>
  counter({ name: 'gateway_rate_limited_total', help: 'Requests refused by rate limits', labelNames: ['scope'] as const });

export interface AdmissionRequest {
  ip: string;
  method: string;
  headers: IncomingHttpHeaders;
}

export interface AdmissionPolicy {
  /** Answer a presented but invalid token (or a tenant the caller is not in) at the edge; otherwise it only counts against the IP. */
  refuseInvalidToken: boolean;
  /** Count the request against the caller's tenant (tenant usage, reported by the auth service). */
  countTenantUsage: boolean;
}

export type AdmissionOutcome =
  | { admitted: true; principal: AuthPrincipal | null; headers: [string, string][] }
  | { admitted: false; status: number; headers: [string, string][]; body: object };

/**
 * Every check the edge makes before a request reaches a subgraph, with one round trip to the
 * shared store: the caller's token (signature remembered until it expires, revocation checked
 * every time), sliding-window limits per client IP (also for anonymous callers and invalid tokens)
 * and per user, shared by every gateway replica, and the tenant's request count. The tighter
 * limit decides the rate-limit headers. Used by the GraphQL fast path and, as Express middleware,
 * by the other routes.
 */
@Injectable()
export class EdgeAdmission {
  private readonly logger = new Logger(EdgeAdmission.name);
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

  async admit(request: AdmissionRequest, policy: AdmissionPolicy): Promise<AdmissionOutcome> {
    let principal: AuthPrincipal | null = null;
    let refusal: AppError | undefined;
    let viaApiKey = false;
    try {
      const apiKey = apiKeyOf(request.headers);
      viaApiKey = apiKey !== undefined;
      const token = viaApiKey ? undefined : bearerToken(request.headers.authorization);
      const verified = viaApiKey ? await this.verifier.verifyApiKey(apiKey as string) : token ? await this.verifier.verifySignature(token) : null;
      principal = verified && actInTenant(verified, request.headers[TENANT_HEADER]);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      refusal = error;
    }

    const limited = !this.allowlist.has(request.ip) && !(principal && this.allowlist.has(principal.userId));
    const windows = limited
      ? [
          { key: `rl:ip:${request.ip}`, limit: this.config.RATE_LIMIT_PER_IP, scope: 'ip' },
          ...(principal ? [{ key: `rl:user:${principal.userId}`, limit: this.config.RATE_LIMIT_PER_USER, scope: 'user', skipWhenRevoked: true }] : []),
        ]
      : [];
    let decision: AdmissionDecision;
    try {
      decision = await this.store.admit({
        windowMs: this.windowMs,
        windows,
        // API keys are checked against the store when verified; access tokens by their revocation marks here.
        revocation: principal && !viaApiKey ? revocationCheckOf(principal) : undefined,
        counters:
          policy.countTenantUsage && principal?.tenantId && request.method === 'POST' ? tenantRequestCounters(principal.tenantId) : undefined,
      });
    } catch (error) {
      // Failing open: an unreachable store must not take the whole API down (readiness reports it,
      // and every subgraph checks revocation again on its own).
      this.logger.error({ err: error }, 'edge admission store unavailable');
      decision = { revoked: false, windows: windows.map(() => null) };
    }
    if (decision.revoked) {
      principal = null;
      refusal = new UnauthenticatedError('errors.session_revoked');
    }

    const counted = windows.flatMap(({ scope }, index) => {
      const windowDecision = decision.windows[index];
      return windowDecision ? [{ scope, decision: windowDecision }] : [];
    });
    const headers = rateLimitHeaders(counted.map(({ decision: windowDecision }) => windowDecision));
    const refused = counted.find(({ decision: windowDecision }) => !windowDecision.allowed);
    if (refused) {
      const retryAfterSeconds = Math.max(1, Math.ceil(refused.decision.retryAfterMs / 1000));
      rateLimited().inc({ scope: refused.scope });
      this.logger.warn({ scope: refused.scope, ip: request.ip, userId: principal?.userId }, 'rate limited');
      const context = RequestContext.current();
      return {
        admitted: false,
        status: 429,
        headers: [...headers, ['Retry-After', String(retryAfterSeconds)]],
        body: {
          errors: [
            {
              message: translate('errors.rate_limited', pickLocale(context?.locales), { retryAfterSeconds }),
              extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds, requestId: context?.requestId },
            },
          ],
        },
      };
    }
    if (refusal && policy.refuseInvalidToken) {
      const { status, body } = httpErrorResponse(refusal);
      if (status === 401) headers.push(['WWW-Authenticate', 'Bearer error="invalid_token"']);
      return { admitted: false, status, headers, body };
    }
    if (principal) {
      RequestContext.patch({ userId: principal.userId, tenantId: principal.tenantId ?? undefined, sessionId: principal.sessionId });
    }
    return { admitted: true, principal, headers };
  }

  /** The checks as Express middleware, for the routes served through Nest. */
  middleware(policy: AdmissionPolicy): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      this.admit({ ip: req.ip ?? 'unknown', method: req.method, headers: req.headers }, policy).then((outcome) => {
        for (const [name, value] of outcome.headers) res.setHeader(name, value);
        if (!outcome.admitted) {
          res.status(outcome.status).json(outcome.body);
          return;
        }
        // Later readers of the caller (the proxies) reuse this verification.
        (req as AuthenticatedRequest).principal = Promise.resolve(outcome.principal);
        next();
      }, next);
    };
  }
}

/** X-RateLimit-* of the tightest window: the refusing one, else the one with the least room left. */
function rateLimitHeaders(decisions: RateLimitDecision[]): [string, string][] {
  if (!decisions.length) return [];
  const tightest = decisions.find((decision) => !decision.allowed) ?? decisions.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  return [
    ['X-RateLimit-Limit', String(tightest.limit)],
    ['X-RateLimit-Remaining', String(tightest.remaining)],
    ['X-RateLimit-Reset', String(Math.ceil(tightest.resetMs / 1000))],
  ];
}
