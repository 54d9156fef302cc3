import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { PASSWORD, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`;
const SESSIONS = `{ mySessions { id userAgent ip current createdAt lastUsedAt expiresAt } }`;
const REVOKE = `mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { revokedSessionId } }`;
const REVOKE_OTHERS = `mutation { revokeOtherSessions { revokedCount } }`;
const CHANGE_PASSWORD = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { otherSessionsRevoked } }`;
const ME = `{ me { id } }`;

interface DeviceSession {
  id: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

describe('sessions per device, limits and brute-force protection', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('login-limits');
  });

  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    graphql<{ login: { accessToken: string; refreshToken: string } }>(platform.gatewayUrl, LOGIN, {
      variables: { input: { email, password } },
      headers,
    });

  async function signIn(email: string, device: string, ip = '198.51.100.10') {
    const result = await login(email, PASSWORD, { 'user-agent': device, 'x-forwarded-for': ip });
    expect(result.errors).toBeUndefined();
    return result.data!.login;
  }

  const accepted = async (token: string) => (await graphql(platform.gatewayUrl, ME, { token })).errors === undefined;

  it('lists the devices and signs one out, or every other one, at once', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'devices');
    const laptop = await signIn(account.email, 'Laptop/1.0', '198.51.100.1');
    const phone = await signIn(account.email, 'Phone/2.0', '198.51.100.2');

    const listed = await graphqlData<{ mySessions: DeviceSession[] }>(platform.gatewayUrl, SESSIONS, { token: phone.accessToken });
    expect(listed.mySessions).toHaveLength(3);
    expect(listed.mySessions[0]).toMatchObject({ userAgent: 'Phone/2.0', ip: '198.51.100.2', current: true });
    expect(listed.mySessions[1]).toMatchObject({ userAgent: 'Laptop/1.0', ip: '198.51.100.1', current: false });

    const laptopSession = listed.mySessions[1].id;
    const revoked = await graphqlData(platform.gatewayUrl, REVOKE, { token: phone.accessToken, variables: { input: { sessionId: laptopSession } } });
    expect(revoked).toEqual({ revokeSession: { revokedSessionId: laptopSession } });
    expect(await accepted(laptop.accessToken)).toBe(false);
    const laptopRefresh = await graphql(platform.gatewayUrl, REFRESH, { variables: { input: { refreshToken: laptop.refreshToken } } });
    expect(laptopRefresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const others = await graphqlData(platform.gatewayUrl, REVOKE_OTHERS, { token: phone.accessToken });
    expect(others).toEqual({ revokeOtherSessions: { revokedCount: 1 } });
    expect(await accepted(account.accessToken)).toBe(false);
    expect(await accepted(phone.accessToken)).toBe(true);
    const remaining = await graphqlData<{ mySessions: DeviceSession[] }>(platform.gatewayUrl, SESSIONS, { token: phone.accessToken });
    expect(remaining.mySessions.map((session) => session.userAgent)).toEqual(['Phone/2.0']);
  });

  it("refuses someone else's session and malformed ids with typed errors", async () => {
    const owner = await registerAccount(platform.gatewayUrl, 'owner');
    const stranger = await registerAccount(platform.gatewayUrl, 'stranger');
    const [ownerSession] = (await graphqlData<{ mySessions: DeviceSession[] }>(platform.gatewayUrl, SESSIONS, { token: owner.accessToken })).mySessions;

    const foreign = await graphql(platform.gatewayUrl, REVOKE, { token: stranger.accessToken, variables: { input: { sessionId: ownerSession.id } } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const malformed = await graphql(platform.gatewayUrl, REVOKE, { token: stranger.accessToken, variables: { input: { sessionId: 'not-a-uuid' } } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await accepted(owner.accessToken)).toBe(true);
  });

  it('keeps at most the configured number of sessions, ending the least recently used', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'limited');
    const devices = [];
    for (const device of ['A/1', 'B/1', 'C/1']) devices.push(await signIn(account.email, device));
    expect(await accepted(account.accessToken)).toBe(false);
    for (const device of devices) expect(await accepted(device.accessToken)).toBe(true);
    const listed = await graphqlData<{ mySessions: DeviceSession[] }>(platform.gatewayUrl, SESSIONS, { token: devices[2].accessToken });
    expect(listed.mySessions.map((session) => session.userAgent)).toEqual(['C/1', 'B/1', 'A/1']);
  });

  it('locks an account out after repeated failures, known or not, whatever password comes next', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'target');
    const unknown = `nobody-${Date.now()}@example.com`;
    let accountLockedAt = 0;
    for (const email of [account.email, unknown]) {
      const ip = { 'x-forwarded-for': email === unknown ? '198.51.100.21' : '198.51.100.20' };
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        const failed = await login(email, 'wrong password 1', ip);
        expect(failed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      const locking = await login(email, 'wrong password 1', ip);
      expect(locking.errors?.[0]).toMatchObject({
        message: 'Too many failed sign-ins; try again in 3 seconds or reset your password',
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 3 },
      });
      if (email === account.email) accountLockedAt = Date.now();
    }
    const correctButLocked = await login(account.email, PASSWORD, { 'x-forwarded-for': '198.51.100.22' });
    expect(correctButLocked.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    // Polling with the right password: a locked-out attempt is refused before the password counts.
    await eventually('the lockout to end', async () => (await login(account.email, PASSWORD, { 'x-forwarded-for': '198.51.100.22' })).errors === undefined, 10_000);
    expect(Date.now() - accountLockedAt).toBeGreaterThanOrEqual(2_500);
  });

  it('locks out a client IP that tries many accounts, not the others', async () => {
    const victim = await registerAccount(platform.gatewayUrl, 'sprayed');
    const attacker = { 'x-forwarded-for': '203.0.113.66' };
    const codes = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      codes.push((await login(`spray-${attempt}-${Date.now()}@example.com`, 'guess password 1', attacker)).errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual([...Array(5).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
    const fromAttacker = await login(victim.email, PASSWORD, attacker);
    expect(fromAttacker.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const fromElsewhere = await login(victim.email, PASSWORD, { 'x-forwarded-for': '203.0.113.67' });
    expect(fromElsewhere.errors).toBeUndefined();
  });

  it('changes the password with the current one, signing out every other session', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'changer');
    const other = await signIn(account.email, 'Other/1', '198.51.100.30');
    const newPassword = 'a brand new passphrase 7';

    const wrong = await graphql(platform.gatewayUrl, CHANGE_PASSWORD, {
      token: account.accessToken,
      variables: { input: { currentPassword: 'not it at all 1', newPassword } },
    });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'currentPassword' })] });
    expect(await accepted(other.accessToken)).toBe(true);

    const changed = await graphqlData(platform.gatewayUrl, CHANGE_PASSWORD, {
      token: account.accessToken,
      variables: { input: { currentPassword: PASSWORD, newPassword } },
    });
    expect(changed).toEqual({ changePassword: { otherSessionsRevoked: 1 } });
    expect(await accepted(other.accessToken)).toBe(false);
    expect(await accepted(account.accessToken)).toBe(true);
    expect((await login(account.email, PASSWORD, { 'x-forwarded-for': '198.51.100.31' })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await login(account.email, newPassword, { 'x-forwarded-for': '198.51.100.31' })).errors).toBeUndefined();
  });
});
