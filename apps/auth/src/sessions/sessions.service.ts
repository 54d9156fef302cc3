import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { revokeSession } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { uniqueViolationColumns } from '@multipult/database';
import { OutboxWriter, SessionRevoked, UserLoggedIn, UserRegistered } from '@multipult/events';
import { AppError, ConflictError, ErrorCode, UnauthenticatedError, pickLocale } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { FAST_STORE, FastStore } from '@multipult/redis';
import type { AuthConfig } from '../config';
import { SigningKeyService } from '../signing-keys/signing-key.service';
import { Membership } from '../tenants/membership.entity';
import { PasswordHasher } from '../users/password-hasher';
import { User } from '../users/user.entity';
import { EmailVerificationService } from '../email-verification/email-verification.service';
import { hashSecretToken, newSecretToken } from '../one-time-tokens/secret-token';
import { AuthPayload, LoginInput, RegisterInput } from './dto';
import { RefreshToken } from './refresh-token.entity';
import { Session, SessionRevokeReason } from './session.entity';

/** Tokens carry at most this many tenants; a user in more switches tenant to reach the rest. */
export const MAX_TENANTS_IN_TOKEN = 20;

@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly signingKeys: SigningKeyService,
    private readonly passwords: PasswordHasher,
    private readonly outbox: OutboxWriter,
    private readonly emailVerification: EmailVerificationService,
  ) {}

  async register(input: RegisterInput): Promise<AuthPayload> {
    const email = input.email.trim().toLowerCase();
    const passwordHash = await this.passwords.hash(input.password);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const username = input.username ?? (await this.freeUsername(manager, email));
        const user = await manager.save(
          manager.create(User, { email, passwordHash, displayName: input.displayName.trim(), username }),
        );
        await this.outbox.enqueue(manager, UserRegistered, {
          aggregateId: user.id,
          actorId: user.id,
          payload: {
            userId: user.id,
            email: user.email,
            displayName: user.displayName,
            username,
            tenantId: null,
            // The language the user signed up in, so their first emails are in it.
            locale: pickLocale(RequestContext.current()?.locales),
          },
        });
        await this.emailVerification.requestInTransaction(manager, user);
        return this.openSession(manager, user, null);
      });
    } catch (error) {
      const columns = uniqueViolationColumns(error);
      if (columns !== undefined) throw new ConflictError(columns === 'username' ? 'errors.username_taken' : 'errors.email_taken');
      throw error;
    }
  }

  /** A handle from the email's local part, with a numeric suffix when it is taken. */
  private async freeUsername(manager: EntityManager, email: string): Promise<string> {
    const base = email.split('@')[0].toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 24).padEnd(3, '_');
    for (let suffix = 0; suffix < 1000; suffix += 1) {
      const candidate = suffix === 0 ? base : `${base}${suffix}`;
      if (!(await manager.exists(User, { where: { username: candidate } }))) return candidate;
    }
    return `${base}${randomBytes(3).toString('hex')}`;
  }

  async login(input: LoginInput): Promise<AuthPayload> {
    const email = input.email.trim().toLowerCase();
    const user = await this.dataSource.getRepository(User).findOneBy({ email });
    // Unknown emails cost a full hash verification too, so timing does not reveal accounts.
    if (!(await this.passwords.verify(user?.passwordHash, input.password)) || !user) {
      throw new AppError(ErrorCode.UNAUTHENTICATED, 'errors.invalid_credentials');
    }
    return this.dataSource.transaction(async (manager) => {
      const lastSession = await manager.findOne(Session, {
        where: { userId: user.id },
        order: { lastUsedAt: 'DESC' },
      });
      const tenantId = await this.stillMember(manager, user.id, lastSession?.tenantId ?? null);
      const payload = await this.openSession(manager, user, tenantId);
      const context = RequestContext.current();
      await this.outbox.enqueue(manager, UserLoggedIn, {
        aggregateId: user.id,
        actorId: user.id,
        tenantId,
        payload: {
          userId: user.id,
          sessionId: payload.sessionId,
          tenantId,
          ip: context?.clientIp ?? null,
          userAgent: context?.userAgent ?? null,
        },
      });
      return payload;
    });
  }

  /**
   * Exchanges a refresh token for a new pair. A token already exchanged is proof of theft (either
   * the thief or the owner holds a stale copy), so the whole session is revoked.
   */
  async refresh(refreshToken: string): Promise<AuthPayload> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const token = await manager.findOne(RefreshToken, {
        where: { tokenHash: hashSecretToken(refreshToken) },
        lock: { mode: 'pessimistic_write' },
      });
      if (!token) return { kind: 'invalid' as const };
      const session = await manager.findOne(Session, { where: { id: token.sessionId }, lock: { mode: 'pessimistic_write' } });
      if (!session || session.revokedAt || session.expiresAt <= new Date()) return { kind: 'invalid' as const };
      if (token.usedAt) {
        await this.revokeInTransaction(manager, session, 'refresh_token_reuse');
        return { kind: 'reused' as const, session };
      }
      if (token.expiresAt <= new Date()) return { kind: 'invalid' as const };
      await manager.update(RefreshToken, { id: token.id }, { usedAt: new Date() });
      const user = await manager.findOneByOrFail(User, { id: session.userId });
      const tenantId = await this.stillMember(manager, user.id, session.tenantId);
      return { kind: 'rotated' as const, payload: await this.issueForSession(manager, session, user, tenantId) };
    });
    if (outcome.kind === 'reused') {
      await revokeSession(this.store, outcome.session.id, this.accessTtlMs());
      this.logger.warn({ sessionId: outcome.session.id, userId: outcome.session.userId }, 'refresh token reuse: session revoked');
    }
    if (outcome.kind !== 'rotated') throw new UnauthenticatedError('errors.invalid_refresh_token');
    return outcome.payload;
  }

  async logout(sessionId: string): Promise<boolean> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      const session = await manager.findOne(Session, { where: { id: sessionId, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      if (!session) return false;
      await this.revokeInTransaction(manager, session, 'logout');
      return true;
    });
    // Marked even when already revoked in the database: the mark is what instances check.
    await revokeSession(this.store, sessionId, this.accessTtlMs());
    return revoked;
  }

  /** Points the session at another tenant of the user and issues an access token for it. */
  async switchTenant(sessionId: string, userId: string, tenantId: string): Promise<{ accessToken: string; expiresIn: number }> {
    return this.dataSource.transaction(async (manager) => {
      const session = await manager.findOne(Session, { where: { id: sessionId, userId, revokedAt: IsNull() } });
      if (!session) throw new UnauthenticatedError('errors.session_revoked');
      session.tenantId = tenantId;
      await manager.update(Session, { id: sessionId }, { tenantId, lastUsedAt: new Date() });
      const user = await manager.findOneByOrFail(User, { id: userId });
      return this.signAccessToken(manager, user, session);
    });
  }

  private accessTtlMs(): number {
    return this.config.ACCESS_TOKEN_TTL_SECONDS * 1000;
  }

  private async stillMember(manager: EntityManager, userId: string, tenantId: string | null): Promise<string | null> {
    if (tenantId && (await manager.exists(Membership, { where: { userId, tenantId } }))) return tenantId;
    const first = await manager.findOne(Membership, { where: { userId }, order: { createdAt: 'ASC' } });
    return first?.tenantId ?? null;
  }

  private async revokeInTransaction(manager: EntityManager, session: Session, reason: SessionRevokeReason): Promise<void> {
    await manager.update(Session, { id: session.id }, { revokedAt: new Date(), revokeReason: reason });
    await this.outbox.enqueue(manager, SessionRevoked, {
      aggregateId: session.id,
      actorId: session.userId,
      tenantId: session.tenantId,
      payload: { userId: session.userId, sessionId: session.id, reason },
    });
  }

  private async openSession(
    manager: EntityManager,
    user: User,
    tenantId: string | null,
  ): Promise<AuthPayload & { sessionId: string }> {
    const context = RequestContext.current();
    const now = new Date();
    const session = await manager.save(
      manager.create(Session, {
        userId: user.id,
        tenantId,
        userAgent: context?.userAgent?.slice(0, 512) ?? null,
        ip: context?.clientIp ?? null,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000),
        revokedAt: null,
        revokeReason: null,
      }),
    );
    return { ...(await this.issueForSession(manager, session, user, tenantId)), sessionId: session.id };
  }

  private async issueForSession(
    manager: EntityManager,
    session: Session,
    user: User,
    tenantId: string | null,
  ): Promise<AuthPayload> {
    const refreshToken = newSecretToken();
    const now = new Date();
    await manager.insert(RefreshToken, {
      sessionId: session.id,
      tokenHash: hashSecretToken(refreshToken),
      expiresAt: session.expiresAt,
      usedAt: null,
    });
    await manager.update(Session, { id: session.id }, { lastUsedAt: now, tenantId });
    const access = await this.signAccessToken(manager, user, { ...session, tenantId });
    return { ...access, refreshToken, user };
  }

  private async signAccessToken(
    manager: EntityManager,
    user: User,
    session: Pick<Session, 'id' | 'tenantId'>,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    const memberships = await manager.find(Membership, {
      where: { userId: user.id },
      relations: { role: true },
      order: { createdAt: 'ASC' },
    });
    const inToken = memberships
      .sort((a, b) => Number(b.tenantId === session.tenantId) - Number(a.tenantId === session.tenantId))
      .slice(0, MAX_TENANTS_IN_TOKEN);
    const accessToken = await this.signingKeys.signAccessToken(
      {
        sub: user.id,
        sid: session.id,
        tid: session.tenantId,
        ten: Object.fromEntries(inToken.map((membership) => [membership.tenantId, membership.role.permissions])),
      },
      this.config.ACCESS_TOKEN_TTL_SECONDS,
    );
    return { accessToken, expiresIn: this.config.ACCESS_TOKEN_TTL_SECONDS };
  }
}
