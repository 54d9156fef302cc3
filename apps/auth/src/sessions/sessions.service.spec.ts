import { randomBytes } from 'node:crypto';
import { openEmailedToken, revocationKeys } from '@multipult/auth';
import { SessionRevoked, UserLoggedIn, UserPasswordResetRequested } from '@multipult/events';
import { ErrorCode } from '@multipult/graphql';
import { eventually } from '@multipult/testing';
import { hashSecretToken } from '../one-time-tokens/secret-token';
import { PasswordsService } from '../passwords/passwords.service';
import { asRequestFrom, AuthTestApp, errorOf, outboxEvents, sessionIdOf, startAuthTestApp } from '../testing/auth-test-app';
import { SessionsService } from './sessions.service';

// SessionsService as auth wires it, against the real PostgreSQL and Redis: rows, outbox events and
// revocation marks are read back from where the other services would see them.

const PASSWORD = 'correct horse battery staple 7';
const MAX_SESSIONS = 3;
const FAILURES_BEFORE_DELAY = 3;
const DELAY_BASE_SECONDS = 1;
const DELAY_MAX_SECONDS = 4;
const ACCOUNT_FAILURES_PER_HOUR = 6;
const MAX_FAILURES_PER_IP = 10;
const IP_BLOCK_SECONDS = 30;

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
  let passwords: PasswordsService;

  beforeAll(async () => {
    auth = await startAuthTestApp('sessions', {
      MAX_SESSIONS_PER_USER: String(MAX_SESSIONS),
      LOGIN_FAILURES_BEFORE_DELAY: String(FAILURES_BEFORE_DELAY),
      LOGIN_DELAY_BASE_SECONDS: String(DELAY_BASE_SECONDS),
      LOGIN_DELAY_MAX_SECONDS: String(DELAY_MAX_SECONDS),
      LOGIN_ACCOUNT_FAILURES_PER_HOUR: String(ACCOUNT_FAILURES_PER_HOUR),
      LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
      LOGIN_IP_BLOCK_SECONDS: String(IP_BLOCK_SECONDS),
    });
    sessions = auth.get(SessionsService);
    passwords = auth.get(PasswordsService);
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

  describe('sign-in throttle (no account lockout)', () => {
    const pairFailures = async (email: string, ip: string) => Number((await auth.store.get(`auth:login-failures:pair:${email}:${ip}`)) ?? 0);
    const delayedFor = async (attempt: Promise<unknown>) => {
      const error = await errorOf(attempt);
      expect(error).toMatchObject({ code: ErrorCode.RATE_LIMITED, messageKey: 'errors.login_throttled' });
      return error.params?.retryAfterSeconds as number;
    };
    /** Tries a wrong password until the pair's delay lets one through (refused tries count nothing); answers its error and when it ran. */
    const failOnceAllowed = async (email: string, ip: string) => {
      const before = await pairFailures(email, ip);
      return eventually(`a failure of ${email} from ${ip} to be counted`, async () => {
        const error = await errorOf(login(email, ip, 'wrong password'));
        return (await pairFailures(email, ip)) > before ? { error, at: Date.now() } : undefined;
      }, 15_000);
    };

    it(`delays one account from one IP progressively after ${FAILURES_BEFORE_DELAY} failures, while the owner signs in from elsewhere`, async () => {
      const owner = await newUser();
      const attackerIp = freshIp();
      for (let attempt = 1; attempt < FAILURES_BEFORE_DELAY; attempt += 1) {
        expect(await errorOf(login(owner.email, attackerIp, 'wrong password'))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED, messageKey: 'errors.invalid_credentials' });
      }

      expect(await delayedFor(login(owner.email, attackerIp, 'wrong password'))).toBe(DELAY_BASE_SECONDS);
      let previous = Date.now();
      // Refused before the password is checked: the right one does not get through either, and nothing more is counted.
      expect(await delayedFor(login(owner.email, attackerIp))).toBe(DELAY_BASE_SECONDS);
      expect(await pairFailures(owner.email, attackerIp)).toBe(FAILURES_BEFORE_DELAY);
      // The account is not locked: its owner, from their own IP, is not even slowed down.
      expect((await login(owner.email, owner.ip)).user.id).toBe(owner.userId);

      // 1 s, 2 s, 4 s, then capped at LOGIN_DELAY_MAX_SECONDS (4).
      for (const [waited, next] of [[1, 2], [2, 4], [4, 4]]) {
        const { error, at } = await failOnceAllowed(owner.email, attackerIp);
        expect(at - previous).toBeGreaterThanOrEqual(waited * 1000 - 100);
        expect(error.params?.retryAfterSeconds).toBe(next);
        previous = at;
      }
    }, 60_000);

    it("answers the same for an address with no account, and a correct password clears the pair's count", async () => {
      const owner = await newUser();
      const nobody = `nobody-${randomBytes(4).toString('hex')}@example.com`;
      const answers = async (email: string) => {
        const ip = freshIp();
        const seen = [];
        for (let attempt = 0; attempt <= FAILURES_BEFORE_DELAY; attempt += 1) {
          const error = await errorOf(login(email, ip, 'wrong password'));
          seen.push({ code: error.code, messageKey: error.messageKey, params: error.params });
        }
        return seen;
      };
      const forAccount = await answers(owner.email);
      expect(await answers(nobody)).toEqual(forAccount);
      expect(forAccount.map((answer) => answer.code)).toEqual([...Array(FAILURES_BEFORE_DELAY - 1).fill(ErrorCode.UNAUTHENTICATED), ErrorCode.RATE_LIMITED, ErrorCode.RATE_LIMITED]);

      const laterIp = freshIp();
      for (let attempt = 1; attempt < FAILURES_BEFORE_DELAY; attempt += 1) await errorOf(login(owner.email, laterIp, 'wrong password'));
      await login(owner.email, laterIp);
      expect(await pairFailures(owner.email, laterIp)).toBe(0);
      for (let attempt = 1; attempt < FAILURES_BEFORE_DELAY; attempt += 1) {
        expect(await errorOf(login(owner.email, laterIp, 'wrong password'))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
      }
    });

    it('lets a burst of one account and IP check no more passwords than its free failures, so no guess slips in uncounted', async () => {
      const owner = await newUser();
      const ip = freshIp();
      const burst = 8;

      const errors = await Promise.all(Array.from({ length: burst }, () => errorOf(login(owner.email, ip, 'wrong password'))));

      expect(errors.every((error) => error.code === ErrorCode.UNAUTHENTICATED || error.code === ErrorCode.RATE_LIMITED)).toBe(true);
      expect(await pairFailures(owner.email, ip)).toBeLessThanOrEqual(FAILURES_BEFORE_DELAY);
      expect(errors.filter((error) => error.code === ErrorCode.RATE_LIMITED).length).toBeGreaterThanOrEqual(burst - FAILURES_BEFORE_DELAY);
    });

    it('signs one account in from two devices behind one IP at the same moment', async () => {
      const owner = await newUser();
      const ip = freshIp();
      const both = await Promise.all([login(owner.email, ip), login(owner.email, ip)]);
      expect(both.map((payload) => typeof payload.accessToken)).toEqual(['string', 'string']);
    });

    it(`past ${ACCOUNT_FAILURES_PER_HOUR} failures an hour across IPs, delays IPs new to the account only`, async () => {
      const owner = await newUser();
      await login(owner.email, owner.ip);
      const nobody = `nobody-${randomBytes(4).toString('hex')}@example.com`;
      const sprayed = async (email: string) => {
        const codes = [];
        for (let attempt = 0; attempt <= ACCOUNT_FAILURES_PER_HOUR; attempt += 1) codes.push((await errorOf(login(email, freshIp(), 'wrong password'))).code);
        return codes;
      };
      const expected = [...Array(ACCOUNT_FAILURES_PER_HOUR).fill(ErrorCode.UNAUTHENTICATED), ErrorCode.RATE_LIMITED];
      expect(await sprayed(owner.email)).toEqual(expected);

      // A new IP waits even with the right password; one the owner signed in from before does not.
      expect(await delayedFor(login(owner.email, freshIp()))).toBe(DELAY_BASE_SECONDS);
      expect((await login(owner.email, owner.ip)).user.id).toBe(owner.userId);
      const audited: { action: string; details: { delaySeconds: Record<string, number> } }[] = await auth.dataSource.query(
        `SELECT action, details FROM audit_log WHERE target_id = $1 AND action = 'login.throttled'`,
        [owner.userId],
      );
      expect(audited).toEqual([{ action: 'login.throttled', details: { delaySeconds: { account: DELAY_BASE_SECONDS } } }]);
      // An address with no account is answered alike.
      expect(await sprayed(nobody)).toEqual(expected);
    });

    it(`blocks a client IP after ${MAX_FAILURES_PER_IP} failures across accounts, known or not, and only that IP`, async () => {
      const victim = await newUser();
      const attackerIp = freshIp();
      for (let attempt = 1; attempt < MAX_FAILURES_PER_IP; attempt += 1) {
        expect(await errorOf(login(`nobody-${attempt}-${randomBytes(3).toString('hex')}@example.com`, attackerIp))).toMatchObject({
          code: ErrorCode.UNAUTHENTICATED,
        });
      }

      expect(await delayedFor(login(victim.email, attackerIp, 'wrong password'))).toBe(IP_BLOCK_SECONDS);
      expect(await delayedFor(login(victim.email, attackerIp))).toBeGreaterThanOrEqual(1);
      expect((await login(victim.email, victim.ip)).user.id).toBe(victim.userId);
    });

    it("lets a password reset through while sign-in is delayed, and the reset clears the account's counters", async () => {
      const owner = await newUser();
      const attackerIp = freshIp();
      for (let attempt = 0; attempt < FAILURES_BEFORE_DELAY; attempt += 1) await errorOf(login(owner.email, attackerIp, 'wrong password'));
      for (let attempt = 0; attempt <= ACCOUNT_FAILURES_PER_HOUR; attempt += 1) await errorOf(login(owner.email, freshIp(), 'wrong password'));
      for (let attempt = 0; attempt < FAILURES_BEFORE_DELAY; attempt += 1) await errorOf(login(owner.email, owner.ip, 'wrong password'));
      expect(await delayedFor(login(owner.email, owner.ip))).toBe(DELAY_BASE_SECONDS);

      const newPassword = 'a brand new passphrase 42';
      await asRequestFrom(owner.ip, () => passwords.requestReset(owner.email));
      const [requested] = (await outboxEvents(auth.dataSource, UserPasswordResetRequested)).filter((event) => event.payload.userId === owner.userId);
      const token = openEmailedToken(String(requested.payload.sealedToken), auth.config.EMAIL_TOKEN_SEAL_KEY, UserPasswordResetRequested.type);
      await asRequestFrom(owner.ip, () => passwords.reset(token, newPassword));

      expect(await pairFailures(owner.email, owner.ip)).toBe(0);
      expect((await login(owner.email, owner.ip, newPassword)).user.id).toBe(owner.userId);
      // The account-wide count starts over: failures from new IPs are plain failures again, up to the ceiling.
      for (let attempt = 0; attempt < ACCOUNT_FAILURES_PER_HOUR; attempt += 1) {
        expect(await errorOf(login(owner.email, freshIp(), 'wrong password'))).toMatchObject({ code: ErrorCode.UNAUTHENTICATED });
      }
      // The guesser's own pair keeps its count: the new password owes it no fresh attempts.
      expect(await pairFailures(owner.email, attackerIp)).toBe(FAILURES_BEFORE_DELAY);
    });
  });
});
