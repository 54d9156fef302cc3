import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { sealEmailedToken } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { OutboxWriter, UserVerificationRequested } from '@multipult/events';
import { BadUserInputError, ConflictError, RateLimitedError } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { OneTimeTokensService } from '../one-time-tokens/one-time-tokens.service';
import { User } from '../users/user.entity';

/**
 * Confirms that a user owns their address: a one-time link by email (sent by the notifications
 * service from user.verification_requested), at sign-up and on request.
 */
@Injectable()
export class EmailVerificationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly tokens: OneTimeTokensService,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
  ) {}

  /** Issues a token and the event in the caller's transaction (sign-up uses this too). */
  async requestInTransaction(manager: EntityManager, user: { id: string; email: string }): Promise<Date> {
    const { token, expiresAt } = await this.tokens.issue(manager, 'email_verification', user, this.config.EMAIL_VERIFICATION_TTL_HOURS * 3_600_000);
    await this.outbox.enqueue(manager, UserVerificationRequested, {
      aggregateId: user.id,
      actorId: user.id,
      payload: {
        userId: user.id,
        email: user.email,
        sealedToken: sealEmailedToken(token, this.config.EMAIL_TOKEN_SEAL_KEY, UserVerificationRequested.type),
        expiresAt: expiresAt.toISOString(),
      },
    });
    return expiresAt;
  }

  async request(userId: string): Promise<Date> {
    const decision = await this.store.hitSlidingWindow(`rl:verify-email:${userId}`, this.config.EMAIL_TOKEN_REQUESTS_PER_HOUR, 3_600_000);
    if (!decision.allowed) throw new RateLimitedError(Math.ceil(decision.retryAfterMs / 1000));
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOneByOrFail(User, { id: userId });
      if (user.emailVerifiedAt) throw new ConflictError('errors.email_already_verified');
      return this.requestInTransaction(manager, user);
    });
  }

  /** The address the token was sent to becomes verified, if it is still the user's address. */
  async verify(token: string): Promise<User> {
    return this.dataSource.transaction(async (manager) => {
      const owner = await this.tokens.consume(manager, 'email_verification', token);
      const [rows]: [{ id: string }[], number] = owner
        ? await manager.query('UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1 AND email = $2 RETURNING id', [
            owner.userId,
            owner.email,
          ])
        : [[], 0];
      if (!rows.length) throw BadUserInputError.field('token', 'errors.token_invalid');
      await this.audit.record({ action: 'email.verified', actorId: rows[0].id, targetType: 'user', targetId: rows[0].id }, manager);
      return manager.findOneByOrFail(User, { id: rows[0].id });
    });
  }
}
