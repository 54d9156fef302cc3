import { randomBytes } from 'node:crypto';
import { revocationKeys } from '@multipult/auth';
import { SessionRevoked, UserLoggedIn } from '@multipult/events';
import { ErrorCode } from '@multipult/graphql';
import { eventually } from '@multipult/testing';
import { hashSecretToken } from '../one-time-tokens/secret-token';
import { asRequestFrom, AuthTestApp, errorOf, outboxEvents, sessionIdOf, startAuthTestApp } from '../testing/auth-test-app';
import { SessionsService } from './sessions.service';

// SessionsService as auth wires it, against the real PostgreSQL and Redis: rows, outbox events and
// revocation marks are read back from where the other services would see them.

const PASSWORD = 'correct horse battery staple 7';
const MAX_SESSIONS = 3;
const MAX_FAILURES_PER_ACCOUNT = 3;
const MAX_FAILURES_PER_IP = 4;

interface SessionRow {
  id: string;
  ip: string | null;
  user_agent: string | null;
  revoked_at: Date | null;
  revoke_reason: string | null;
}

describe('SessionsService', () => {
  let auth: AuthTestApp;
  let sessions: SessionsService;

  beforeAll(async () => {
    auth = await startAuthTestApp('sessions', {
      MAX_SESSIONS_PER_USER: String(MAX_SESSIONS),
      LOGIN_MAX_FAILURES_PER_ACCOUNT: String(MAX_FAILURES_PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
      LOGIN_LOCKOUT_SECONDS: '2',
    });
    sessions = auth.get(SessionsService);
  });

  afterAll(async () => {
    await auth?.close();
  });

  /** A user of their own per test (signed up, so with one session already) and a client IP of their own. */
  const freshIp = () => `10.${[...randomBytes(3)].join('.')}`;
  const newUser = async () => {
    const email = `user-${randomBytes(4).toString('hex')}@example.com`;
    const ip = freshIp();
    const signedUp = await sessions.register({ email, password: PASSWORD, displayName: 'Test User' });
    return { email, ip, userId: signedUp.user.id, signedUp };
  };
  const login = (email: string, ip: string, password = PASSWORD) => asRequestFrom(ip, () => sessions.login({ email, password }));
  const sessionRows = (userId: string): Promise<SessionRow[]> =>
    auth.dataSource.query('SELECT id, ip, user_agent, revoked_at, revoke_reason FROM sessions WHERE user_id = $1 ORDER BY created_at', [userId]);
  const sessionRow = async (sessionId: string): Promise<SessionRow> =>
    (await auth.dataSource.query('SELECT id, ip, user_agent, revoked_at, revoke_reason FROM sessions WHERE id = $1', [sessionId]))[0];
  const refreshTokenRow = async (token: string): Promise<{ session_id: string; used_at: Date | null } | undefined> =>
    (await auth.dataSource.query('SELECT session_id, used_at FROM refresh_tokens WHERE token_hash = $1', [hashSecretToken(token)]))[0];
  const revocationMark = (sessionId: string) => auth.store.get(revocationKeys.session(sessionId));
  const revokedEventsOf = async (userId: string) =>
    (await outboxEvents(auth.dataSource, SessionRevoked)).filter((event) => event.payload.userId === userId);

  describe('sign-in', () => {
    it('opens a session with the client IP and agent and a refresh token of it, and announces user.logged_in', async () => {
      const { email, ip, userId } = await newUser();

      const payload = await login(email, ip);

      const sessionId = sessionIdOf(payload.accessToken);
      expect(await sessionRow(sessionId)).toMatchObject({ ip, user_agent: 'auth-spec', revoked_at: null });
      expect(await refreshTokenRow(payload.refreshToken)).toEqual({ session_id: sessionId, used_at: null });
      expect(payload.user.id).toBe(userId);
      const loggedIn = (await outboxEvents(auth.dataSource, UserLoggedIn)).filter((event) => event.payload.sessionId === sessionId);
      expect(loggedIn).toEqual([expect.objectContaining({ aggregateId: userId, payload: expect.objectContaining({ userId, ip }) })]);
    });
  });

  describe('refresh', () => {
    it('rotates: the old token is spent, the new one belongs to the same session', async () => {
      const { signedUp } = await newUser();
      const sessionId = sessionIdOf(signedUp.accessToken);

      const rotated = await sessions.refresh(signedUp.refreshToken);

      expect(rotated.refreshToken).not.toBe(signedUp.refreshToken);
      expect(sessionIdOf(rotated.accessToken)).toBe(sessionId);
      expect((await refreshTokenRow(signedUp.refreshToken))?.used_at).toBeInstanceOf(Date);
      expect(await refreshTokenRow(rotated.refreshToken)).toEqual({ session_id: sessionId, used_at: null });
      expect(await revocationMark(sessionId)).toBeNull();
    });

    it('revokes the whole session when a spent token comes back, so the newest token stops too', async () => {
      const { userId, signedUp } = await newUser();
      const sessionId = sessionIdOf(signedUp.accessToken);
      const rotated = await sessions.refresh(signedUp.refreshToken);

      const reuse = await errorOf(sessions.refresh(signedUp.refreshToken));

      expect(reuse).toMatchObject({ code: ErrorCode.UNAUTHENTICATED, messageKey: 'errors.invalid_refresh_token' });
      expect(await sessionRow(sessionId)).toMatchObject({ revoke_reason: 'refresh_token_reuse', revoked_at: expect.any(Date) });
      expect(await revocationMark(sessionId)).toBe('1');
      expect(await revokedEventsOf(userId)).toEqual([
        expect.objectContaining({ aggregateId: sessionId, payload: { userId, sessionId, reason: 'refresh_token_reuse' } }),
      ]);
      expect(await errorOf(sessions.refresh(rotated.refreshToken))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
    });

    it('refuses a token it never issued', async () => {
      expect(await errorOf(sessions.refresh(randomBytes(32).toString('base64url')))).toMatchObject({
        code: ErrorCode.UNAUTHENTICATED,
        messageKey: 'errors.invalid_refresh_token',
      });
    });
  });

  describe(`MAX_SESSIONS_PER_USER (${MAX_SESSIONS})`, () => {
    it('ends the least recently used session, not the oldest, when one more opens', async () => {
      const { email, ip, userId, signedUp } = await newUser();
      const first = sessionIdOf(signedUp.accessToken);
      const second = sessionIdOf((await login(email, ip)).accessToken);
      const third = sessionIdOf((await login(email, ip)).accessToken);
      // Using the first session again leaves the second as the least recently used.
      await sessions.refresh(signedUp.refreshToken);

      const fourth = sessionIdOf((await login(email, ip)).accessToken);

      const rows = await sessionRows(userId);
      expect(rows.filter((row) => row.revoked_at === null).map((row) => row.id).sort()).toEqual([first, third, fourth].sort());
      expect(rows.find((row) => row.id === second)).toMatchObject({ revoke_reason: 'session_limit' });
      expect(await revocationMark(second)).toBe('1');
      expect(await revokedEventsOf(userId)).toEqual([
        expect.objectContaining({ aggregateId: second, payload: { userId, sessionId: second, reason: 'session_limit' } }),
      ]);
      expect((await sessions.listSessions(userId)).map((session) => session.id)).toEqual([fourth, first, third]);
    });
  });

  describe('revoking', () => {
    /** The transaction start (now()) of the row's and the event's transaction: equal only when it is one transaction. */
    const outboxCreatedAt = async (eventId: string): Promise<Date> =>
      (await auth.dataSource.query('SELECT created_at FROM outbox WHERE id = $1', [eventId]))[0].created_at;

    it('revokeOwnSession writes session.revoked in the revoking transaction and marks the session in Redis', async () => {
      const { email, ip, userId, signedUp } = await newUser();
      const other = sessionIdOf((await login(email, ip)).accessToken);

      await sessions.revokeOwnSession(userId, other);

      const row = await sessionRow(other);
      expect(row).toMatchObject({ revoke_reason: 'user', revoked_at: expect.any(Date) });
      const [event] = await revokedEventsOf(userId);
      expect(event).toMatchObject({ aggregateId: other, payload: { userId, sessionId: other, reason: 'user' } });
      expect(await outboxCreatedAt(event.id)).toEqual(row.revoked_at);
      expect(await revocationMark(other)).toBe('1');
      expect(await revocationMark(sessionIdOf(signedUp.accessToken))).toBeNull();
    });

    it("answers NOT_FOUND for someone else's session and for one already ended, revoking nothing", async () => {
      const owner = await newUser();
      const stranger = await newUser();
      const ownerSession = sessionIdOf(owner.signedUp.accessToken);

      expect(await errorOf(sessions.revokeOwnSession(stranger.userId, ownerSession))).toMatchObject({ code: ErrorCode.NOT_FOUND });
      expect(await sessionRow(ownerSession)).toMatchObject({ revoked_at: null });
      expect(await revocationMark(ownerSession)).toBeNull();

      await sessions.revokeOwnSession(owner.userId, ownerSession);
      expect(await errorOf(sessions.revokeOwnSession(owner.userId, ownerSession))).toMatchObject({ code: ErrorCode.NOT_FOUND });
      expect(await revokedEventsOf(owner.userId)).toHaveLength(1);
    });

    it('revokeOtherSessions ends every other session with an event and a mark each, and keeps the current one', async () => {
      const { email, ip, userId, signedUp } = await newUser();
      const current = sessionIdOf(signedUp.accessToken);
      const others = [sessionIdOf((await login(email, ip)).accessToken), sessionIdOf((await login(email, ip)).accessToken)];

      expect(await sessions.revokeOtherSessions(userId, current)).toBe(2);

      const rows = await sessionRows(userId);
      expect(rows.filter((row) => row.revoked_at === null).map((row) => row.id)).toEqual([current]);
      const events = await revokedEventsOf(userId);
      expect(events.map((event) => event.aggregateId).sort()).toEqual([...others].sort());
      for (const event of events) {
        expect(event.payload.reason).toBe('user');
        expect(await outboxCreatedAt(event.id)).toEqual(rows.find((row) => row.id === event.aggregateId)?.revoked_at);
      }
      expect(await Promise.all(others.map(revocationMark))).toEqual(['1', '1']);
      expect(await revocationMark(current)).toBeNull();
      expect(await sessions.revokeOtherSessions(userId, current)).toBe(0);
    });
  });

  describe('lockout', () => {
    const lockKey = (scope: 'account' | 'ip', subject: string) => `auth:login-lock:${scope}:${subject}`;

    it(`locks the account after ${MAX_FAILURES_PER_ACCOUNT} failures, whatever the password next, until the lockout ends`, async () => {
      const { email, ip } = await newUser();
      for (let attempt = 1; attempt < MAX_FAILURES_PER_ACCOUNT; attempt += 1) {
        expect(await errorOf(login(email, ip, 'wrong password'))).toMatchObject({
          code: ErrorCode.UNAUTHENTICATED,
          messageKey: 'errors.invalid_credentials',
        });
      }

      expect(await errorOf(login(email, ip, 'wrong password'))).toMatchObject({ code: ErrorCode.RATE_LIMITED, messageKey: 'errors.login_locked' });
      expect(Number(await auth.store.get(lockKey('account', email)))).toBeGreaterThan(Date.now());
      // The same account from another IP is locked too; the IP itself is not.
      expect(await errorOf(login(email, '192.0.2.1'))).toMatchObject({ code: ErrorCode.RATE_LIMITED });
      expect(await auth.store.get(lockKey('ip', ip))).toBeNull();

      // LOGIN_LOCKOUT_SECONDS=2: the lock lapses on its own in Redis.
      const afterLockout = await eventually('the account lock to lapse', () => login(email, ip).catch(() => undefined), 10_000);
      expect(afterLockout.user.email).toBe(email);
    });

    it("starts the account's count again after a correct password", async () => {
      const { email, ip } = await newUser();
      for (let attempt = 1; attempt < MAX_FAILURES_PER_ACCOUNT; attempt += 1) await errorOf(login(email, ip, 'wrong password'));

      await login(email, ip);
      // From another IP: a success does not clear its IP's failures, and those are not under test here.
      const laterIp = freshIp();
      for (let attempt = 1; attempt < MAX_FAILURES_PER_ACCOUNT; attempt += 1) {
        expect(await errorOf(login(email, laterIp, 'wrong password'))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
      }

      expect(await auth.store.get(lockKey('account', email))).toBeNull();
      expect((await login(email, laterIp)).user.email).toBe(email);
    });

    it(`locks a client IP after ${MAX_FAILURES_PER_IP} failures across accounts, known or not, for every account`, async () => {
      const victim = await newUser();
      const attackerIp = '198.51.100.7';
      for (let attempt = 1; attempt < MAX_FAILURES_PER_IP; attempt += 1) {
        expect(await errorOf(login(`nobody-${attempt}-${randomBytes(3).toString('hex')}@example.com`, attackerIp))).toMatchObject({
          code: ErrorCode.UNAUTHENTICATED,
        });
      }

      expect(await errorOf(login(victim.email, attackerIp, 'wrong password'))).toMatchObject({ code: ErrorCode.RATE_LIMITED });
      expect(await auth.store.get(lockKey('ip', attackerIp))).not.toBeNull();
      expect(await auth.store.get(lockKey('account', victim.email))).toBeNull();
      expect(await errorOf(login(victim.email, attackerIp))).toMatchObject({ code: ErrorCode.RATE_LIMITED });
      // The account itself is not locked: from its own IP the right password works.
      expect((await login(victim.email, victim.ip)).user.id).toBe(victim.userId);
    });
  });
});
