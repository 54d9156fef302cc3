import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { uniqueViolationColumns } from '@multipult/database';
import { OutboxWriter, UserLoggedIn } from '@multipult/events';
import { AppError, ConflictError, ErrorCode, ForbiddenError, MfaRequiredError, NotFoundError, UnauthenticatedError } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { platformPermissionsOf } from '../admin/platform-roles';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { SigningKeyService } from '../signing-keys/signing-key.service';
import { Membership } from '../tenants/membership.entity';
import { PasswordHasher } from '../users/password-hasher';
import { User } from '../users/user.entity';
import { EmailVerificationService } from '../email-verification/email-verification.service';
import { hashSecretToken, newSecretToken } from '../one-time-tokens/secret-token';
import { AuthPayload, LoginInput, RegisterInput } from './dto';
import { RefreshToken } from './refresh-token.entity';
import { LoginThrottle } from './login-throttle';
import { MfaChallenges } from './mfa-challenges';
import { Registrations } from './registrations';
import { Session } from './session.entity';
import { SessionRevoker } from './session-revoker';

/** Not an argon2 hash, so no password ever matches it. */
const NO_PASSWORD = '!';

/** Tokens carry at most this many tenants; a user in more switches tenant to reach the rest. */
export const MAX_TENANTS_IN_TOKEN = 20;

@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    private readonly revoker: SessionRevoker,
    private readonly throttle: LoginThrottle,
    private readonly audit: AuditLog,
    private readonly mfaChallenges: MfaChallenges,
    private readonly signingKeys: SigningKeyService,
    private readonly passwords: PasswordHasher,
    private readonly outbox: OutboxWriter,
    private readonly emailVerification: EmailVerificationService,
    private readonly registrations: Registrations,
  ) {}

  async register(input: RegisterInput): Promise<AuthPayload> {
    const email = input.email.trim().toLowerCase();
    const passwordHash = await this.passwords.hash(input.password);
    try {
      const payload = await this.dataSource.transaction(async (manager) => {
        const user = await this.registrations.create(
          manager,
          { email, passwordHash, displayName: input.displayName.trim(), username: input.username },
          'password',
        );
        await this.emailVerification.requestInTransaction(manager, user);
        // A new account has no other session to evict.
        return this.openSession(manager, user, null);
      });
      await this.throttle.rememberSignIn(email, RequestContext.current()?.clientIp);
      return payload;
    } catch (error) {
      const columns = uniqueViolationColumns(error);
      if (columns !== undefined) throw new ConflictError(columns === 'username' ? 'errors.username_taken' : 'errors.email_taken');
      throw error;
    }
  }

  /**
   * An account for someone an OpenID provider vouched for: no password (one can be set through a
   * reset link), the address already confirmed. Announced like a sign-up.
   */
  registerFederated(manager: EntityManager, input: { email: string; displayName: string }): Promise<User> {
    return this.registrations.create(manager, { ...input, passwordHash: NO_PASSWORD, emailVerifiedAt: new Date() }, 'oidc');
  }

  async login(input: LoginInput): Promise<AuthPayload> {
    const email = input.email.trim().toLowerCase();
    const user = await this.checkedPassword(email, input.password, RequestContext.current()?.clientIp);
    if (user.bannedAt) {
      await this.audit.recordFailure({ action: 'login.refused_banned', actorId: null, targetType: 'user', targetId: user.id });
      throw new ForbiddenError('errors.account_banned');
    }
    if (user.totpEnabledAt) throw new MfaRequiredError(await this.mfaChallenges.issue(user.id), this.mfaChallenges.ttlSeconds);
    return this.signIn(user, 'password');
  }

  /**
   * Opens a session for a user whose identity is established (password, second factor, or an
   * OpenID provider), in the tenant they last used; audited and announced as user.logged_in.
   */
  async signIn(user: User, method: 'password' | 'mfa' | 'oidc'): Promise<AuthPayload> {
    const ip = RequestContext.current()?.clientIp;
    const { evicted, ...payload } = await this.dataSource.transaction(async (manager) => {
      const lastSession = await manager.findOne(Session, {
        where: { userId: user.id },
        order: { lastUsedAt: 'DESC' },
      });
      const tenantId = await this.stillMember(manager, user.id, lastSession?.tenantId ?? null);
      const opened = await this.openSession(manager, user, tenantId);
      await this.audit.record(
        { action: 'login.succeeded', actorId: user.id, targetType: 'session', targetId: opened.sessionId, tenantId, details: { method } },
        manager,
      );
      await this.outbox.enqueue(manager, UserLoggedIn, {
        aggregateId: user.id,
        actorId: user.id,
        tenantId,
        payload: {
          userId: user.id,
          sessionId: opened.sessionId,
          tenantId,
          ip: ip ?? null,
          userAgent: RequestContext.current()?.userAgent ?? null,
        },
      });
      return opened;
    });
    await this.revoker.markRevoked(evicted);
    await this.throttle.rememberSignIn(user.email, ip);
    return payload;
  }

  /** The user's signed-in devices, most recently used first. */
  listSessions(userId: string): Promise<Session[]> {
    return this.dataSource.getRepository(Session).find({
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { lastUsedAt: 'DESC' },
    });
  }

  /** Ends one of the user's own sessions; NOT_FOUND for anyone else's (or one already ended). */
  async revokeOwnSession(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      const ids = await this.revoker.revokeInTransaction(manager, { userId, sessionId }, 'user');
      if (ids.length) await this.audit.record({ action: 'session.revoked', targetType: 'session', targetId: sessionId }, manager);
      return ids;
    });
    if (!revoked.length) throw new NotFoundError('Session');
    await this.revoker.markRevoked(revoked);
  }

  /** Signs out every device but the current one; answers how many sessions ended. */
  async revokeOtherSessions(userId: string, currentSessionId: string): Promise<number> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      const ids = await this.revoker.revokeInTransaction(manager, { userId, exceptSessionId: currentSessionId }, 'user');
      await this.audit.record({ action: 'session.revoked_others', targetType: 'user', targetId: userId, details: { count: ids.length } }, manager);
      return ids;
    });
    await this.revoker.markRevoked(revoked);
    return revoked.length;
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
        await this.revoker.revokeInTransaction(manager, { userId: session.userId, sessionId: session.id }, 'refresh_token_reuse');
        await this.audit.record(
          { action: 'session.refresh_token_reused', actorId: null, targetType: 'session', targetId: session.id, details: { userId: session.userId } },
          manager,
        );
        return { kind: 'reused' as const, session };
      }
      if (token.expiresAt <= new Date()) return { kind: 'invalid' as const };
      await manager.update(RefreshToken, { id: token.id }, { usedAt: new Date() });
      const user = await manager.findOneByOrFail(User, { id: session.userId });
      const tenantId = await this.stillMember(manager, user.id, session.tenantId);
      return { kind: 'rotated' as const, payload: await this.issueForSession(manager, session, user, tenantId) };
    });
    if (outcome.kind === 'reused') {
      await this.revoker.markRevoked([outcome.session.id]);
      this.logger.warn({ sessionId: outcome.session.id, userId: outcome.session.userId }, 'refresh token reuse: session revoked');
    }
    if (outcome.kind !== 'rotated') throw new UnauthenticatedError('errors.invalid_refresh_token');
    return outcome.payload;
  }

  async logout(userId: string, sessionId: string): Promise<boolean> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      const ids = await this.revoker.revokeInTransaction(manager, { userId, sessionId }, 'logout');
      if (ids.length) await this.audit.record({ action: 'logout', targetType: 'session', targetId: sessionId }, manager);
      return ids;
    });
    // Marked even when already revoked in the database: the mark is what instances check.
    await this.revoker.markRevoked([sessionId]);
    return revoked.length > 0;
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

  /**
   * The account whose password this is, within the sign-in throttle (LoginThrottle); failures,
   * unknown address or wrong password alike, answer invalid_credentials or, once delayed, RATE_LIMITED.
   */
  private async checkedPassword(email: string, password: string, ip: string | undefined): Promise<User> {
    const endCheck = await this.throttle.beginCheck(email, ip);
    try {
      const user = await this.dataSource.getRepository(User).findOneBy({ email });
      // Unknown emails cost a full hash verification too, so timing does not reveal accounts.
      // An account being erased is gone as far as signing in goes.
      if (!(await this.passwords.verify(user?.passwordHash, password)) || !user || user.erasureRequestedAt) {
        const throttled = await this.throttle.recordFailure(email, ip);
        await this.audit.recordFailure({
          action: throttled ? 'login.throttled' : 'login.failed',
          actorId: null,
          targetType: 'user',
          targetId: user?.id ?? null,
          ...(throttled ? { details: { delaySeconds: throttled.delays } } : {}),
        });
        throw throttled?.error ?? new AppError(ErrorCode.UNAUTHENTICATED, 'errors.invalid_credentials');
      }
      await this.throttle.recordSuccess(email, ip);
      return user;
    } finally {
      await endCheck();
    }
  }

  private async stillMember(manager: EntityManager, userId: string, tenantId: string | null): Promise<string | null> {
    if (tenantId && (await manager.exists(Membership, { where: { userId, tenantId } }))) return tenantId;
    const first = await manager.findOne(Membership, { where: { userId }, order: { createdAt: 'ASC' } });
    return first?.tenantId ?? null;
  }

  /**
   * A new session for the user; past MAX_SESSIONS_PER_USER the least recently used ones end
   * (their ids are answered, to be marked revoked once the transaction commits).
   */
  private async openSession(
    manager: EntityManager,
    user: User,
    tenantId: string | null,
  ): Promise<AuthPayload & { sessionId: string; evicted: string[] }> {
    // Serialises one user's sign-ins, so concurrent ones cannot both stay under the limit.
    await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
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
    const surplus: { id: string }[] = await manager.query(
      `SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() AND id <> $2
       ORDER BY last_used_at DESC OFFSET $3`,
      [user.id, session.id, this.config.MAX_SESSIONS_PER_USER - 1],
    );
    const evicted = surplus.length
      ? await this.revoker.revokeInTransaction(manager, { userId: user.id, sessionIds: surplus.map((row) => row.id) }, 'session_limit')
      : [];
    return { ...(await this.issueForSession(manager, session, user, tenantId)), sessionId: session.id, evicted };
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
    await manager.query('UPDATE users SET last_active_at = $2 WHERE id = $1', [user.id, now]);
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
    const platformRoles: { role: string }[] = await manager.query('SELECT role FROM user_platform_roles WHERE user_id = $1', [user.id]);
    const platformPermissions = platformPermissionsOf(platformRoles.map((row) => row.role));
    const inToken = memberships
      .sort((a, b) => Number(b.tenantId === session.tenantId) - Number(a.tenantId === session.tenantId))
      .slice(0, MAX_TENANTS_IN_TOKEN);
    const accessToken = await this.signingKeys.signAccessToken(
      {
        sub: user.id,
        sid: session.id,
        tid: session.tenantId,
        ten: Object.fromEntries(inToken.map((membership) => [membership.tenantId, membership.role.permissions])),
        ...(platformPermissions.length ? { pla: platformPermissions } : {}),
      },
      this.config.ACCESS_TOKEN_TTL_SECONDS,
    );
    return { accessToken, expiresIn: this.config.ACCESS_TOKEN_TTL_SECONDS };
  }
}
