import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { sealEmailedToken } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { OutboxWriter, UserPasswordChanged, UserPasswordResetRequested } from '@multipult/events';
import { BadUserInputError, RateLimitedError } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';
import { OneTimeTokensService } from '../one-time-tokens/one-time-tokens.service';
import { PasswordHasher } from '../users/password-hasher';
import { User } from '../users/user.entity';
import { AuditLog } from '../audit/audit-log.service';
import { TwoFactorService } from '../two-factor/two-factor.service';
import { LoginThrottle } from '../sessions/login-throttle';
import { SessionRevoker } from '../sessions/session-revoker';

/**
 * Changing a password, signed in (other sessions end), and forgotten passwords: a one-time link
 * by email (sent by the notifications service from user.password_reset_requested); using it sets
 * the new password and signs out every session.
 */
@Injectable()
export class PasswordsService {
  private readonly logger = new Logger(PasswordsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly revoker: SessionRevoker,
    private readonly tokens: OneTimeTokensService,
    private readonly outbox: OutboxWriter,
    private readonly passwords: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditLog,
    private readonly twoFactor: TwoFactorService,
  ) {}

  /** The same answer whether or not the address has an account, so it cannot be used to find accounts. */
  async requestReset(rawEmail: string): Promise<void> {
    const email = rawEmail.trim().toLowerCase();
    const ip = RequestContext.current()?.clientIp ?? 'unknown';
    for (const key of [`rl:password-reset:email:${email}`, `rl:password-reset:ip:${ip}`]) {
      const limit = key.includes(':ip:') ? this.config.EMAIL_TOKEN_REQUESTS_PER_HOUR * 4 : this.config.EMAIL_TOKEN_REQUESTS_PER_HOUR;
      const decision = await this.store.hitSlidingWindow(key, limit, 3_600_000);
      if (!decision.allowed) throw new RateLimitedError(Math.ceil(decision.retryAfterMs / 1000));
    }
    await this.dataSource.transaction(async (manager) => {
      const user = await manager.findOneBy(User, { email, erasureRequestedAt: IsNull() });
      if (!user) return;
      const { token, expiresAt } = await this.tokens.issue(manager, 'password_reset', user, this.config.PASSWORD_RESET_TTL_MINUTES * 60_000);
      await this.outbox.enqueue(manager, UserPasswordResetRequested, {
        aggregateId: user.id,
        actorId: null,
        payload: {
          userId: user.id,
          email: user.email,
          sealedToken: sealEmailedToken(token, this.config.EMAIL_TOKEN_SEAL_KEY, UserPasswordResetRequested.type),
          expiresAt: expiresAt.toISOString(),
        },
      });
      await this.audit.record({ action: 'password.reset_requested', actorId: null, targetType: 'user', targetId: user.id }, manager);
    });
  }

  async reset(token: string, newPassword: string): Promise<void> {
    const passwordHash = await this.passwords.hash(newPassword);
    const { userId, email, sessionIds } = await this.dataSource.transaction(async (manager) => {
      const owner = await this.tokens.consume(manager, 'password_reset', token);
      if (!owner) throw BadUserInputError.field('token', 'errors.token_invalid');
      // The link reached the address, which proves it as a verification would.
      const [rows]: [{ id: string }[], number] = await manager.query(
        `UPDATE users SET password_hash = $2, email_verified_at = coalesce(email_verified_at, now()), updated_at = now()
         WHERE id = $1 AND email = $3 RETURNING id`,
        [owner.userId, passwordHash, owner.email],
      );
      if (!rows.length) throw BadUserInputError.field('token', 'errors.token_invalid');
      const sessionIds = await this.revoker.revokeInTransaction(manager, { userId: owner.userId }, 'password_change', { announce: false });
      await manager.query(`UPDATE one_time_tokens SET used_at = now() WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL`, [
        owner.userId,
      ]);
      await this.outbox.enqueue(manager, UserPasswordChanged, {
        aggregateId: owner.userId,
        actorId: owner.userId,
        payload: { userId: owner.userId, method: 'reset' },
      });
      await this.audit.record(
        { action: 'password.reset', actorId: owner.userId, targetType: 'user', targetId: owner.userId, details: { sessionsRevoked: sessionIds.length } },
        manager,
      );
      return { userId: owner.userId, email: owner.email, sessionIds };
    });
    // Per session rather than "tokens issued before": iat has second precision, so a cut-off would
    // spare tokens from the reset's own second or refuse a login right after it.
    await this.revoker.markRevoked(sessionIds);
    await this.throttle.clearAfterReset(email, RequestContext.current()?.clientIp);
    this.logger.log({ userId, sessions: sessionIds.length }, 'password reset: every session revoked; sign-in delays of the account cleared');
  }

  /** Sets a new password after checking the current one; every other session of the user ends. */
  async change(userId: string, currentSessionId: string, currentPassword: string, newPassword: string, code?: string): Promise<number> {
    const user = await this.dataSource.getRepository(User).findOneByOrFail({ id: userId });
    const ip = RequestContext.current()?.clientIp;
    const endCheck = await this.throttle.beginCheck(user.email, ip);
    try {
      if (!(await this.passwords.verify(user.passwordHash, currentPassword))) {
        const throttled = await this.throttle.recordFailure(user.email, ip);
        await this.audit.recordFailure({
          action: 'password.change_failed',
          targetType: 'user',
          targetId: userId,
          ...(throttled ? { details: { delaySeconds: throttled.delays } } : {}),
        });
        throw throttled?.error ?? BadUserInputError.field('currentPassword', 'errors.wrong_password');
      }
    } finally {
      await endCheck();
    }
    await this.twoFactor.assertSecondFactor(userId, code);
    const passwordHash = await this.passwords.hash(newPassword);
    const sessionIds = await this.dataSource.transaction(async (manager) => {
      await manager.update(User, { id: userId }, { passwordHash });
      const revoked = await this.revoker.revokeInTransaction(manager, { userId, exceptSessionId: currentSessionId }, 'password_change', {
        announce: false,
      });
      await this.outbox.enqueue(manager, UserPasswordChanged, { aggregateId: userId, actorId: userId, payload: { userId, method: 'change' } });
      await this.audit.record({ action: 'password.changed', targetType: 'user', targetId: userId, details: { otherSessionsRevoked: revoked.length } }, manager);
      return revoked;
    });
    await this.revoker.markRevoked(sessionIds);
    return sessionIds.length;
  }
}
