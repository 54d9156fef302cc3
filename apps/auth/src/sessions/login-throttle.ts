import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectConfig } from '@multipult/config';
import { AppError, ErrorCode } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';

const keys = {
  failures: (scope: 'account' | 'ip', subject: string) => `auth:login-failures:${scope}:${subject}`,
  lock: (scope: 'account' | 'ip', subject: string) => `auth:login-lock:${scope}:${subject}`,
};

export class LoginLockedError extends AppError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, 'errors.login_locked', { retryAfterSeconds });
  }
}

/**
 * Brute-force protection shared by every auth instance through Redis: failed sign-ins are
 * counted per account (email, known or not, so a lock reveals nothing) and per client IP; past
 * the limit within the window, that account or IP is locked out for a while, whatever password
 * it tries next.
 */
@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);

  constructor(
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
  ) {}

  async assertNotLocked(email: string, ip: string | undefined): Promise<void> {
    const locks = await this.store.getMany([keys.lock('account', email), ...(ip ? [keys.lock('ip', ip)] : [])]);
    const lockedUntil = Math.max(0, ...locks.map(Number));
    if (lockedUntil > Date.now()) throw new LoginLockedError(Math.ceil((lockedUntil - Date.now()) / 1000));
  }

  /** Counts a failure; answers the LoginLockedError to throw when it locks the account or the IP. */
  async recordFailure(email: string, ip: string | undefined): Promise<LoginLockedError | null> {
    const windowMs = this.config.LOGIN_FAILURE_WINDOW_SECONDS * 1000;
    const limits: ['account' | 'ip', string, number][] = [['account', email, this.config.LOGIN_MAX_FAILURES_PER_ACCOUNT]];
    if (ip) limits.push(['ip', ip, this.config.LOGIN_MAX_FAILURES_PER_IP]);
    let locked = false;
    for (const [scope, subject, limit] of limits) {
      const decision = await this.store.hitSlidingWindow(keys.failures(scope, subject), limit, windowMs);
      if (decision.allowed && decision.remaining > 0) continue;
      const lockMs = this.config.LOGIN_LOCKOUT_SECONDS * 1000;
      await this.store.set(keys.lock(scope, subject), String(Date.now() + lockMs), lockMs);
      await this.store.del(keys.failures(scope, subject));
      this.logger.warn({ scope, subject: scope === 'ip' ? subject : undefined, lockSeconds: this.config.LOGIN_LOCKOUT_SECONDS }, 'sign-in locked out after repeated failures');
      locked = true;
    }
    return locked ? new LoginLockedError(this.config.LOGIN_LOCKOUT_SECONDS) : null;
  }

  /** A correct password clears the account's failures (not the IP's: one success does not vouch for an IP). */
  async recordSuccess(email: string): Promise<void> {
    await this.store.del(keys.failures('account', email));
  }
}
