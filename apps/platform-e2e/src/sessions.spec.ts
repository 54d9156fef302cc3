import { eventually, graphql, graphqlData } from '@multipult/testing';
import { PASSWORD, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`;
const SESSIONS = `{ mySessions { id userAgent ip current createdAt lastUsedAt expiresAt } }`;
const REVOKE = `mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { revokedSessionId } }`;
const REVOKE_OTHERS = `mutation { revokeOtherSessions { revokedCount } }`;
const CHANGE_PASSWORD = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { otherSessionsRevoked } }`;
const ME = `{ me { id } }`;
const REQUEST_RESET = `mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { passwordChanged } }`;

interface DeviceSession {
  id: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

describe('sessions per device, limits and brute-force protection (delays, no account lockout)', () => {
  let platform: PlatformOf<'login-limits'>;

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

  const delayed = (seconds: number) => ({
    message: `Too many failed sign-ins; try again in ${seconds} seconds or reset your password`,
    extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: seconds }),
  });
  /** The first error of `attempts` wrong passwords for `email` from `ip`, one after the other. */
  const failures = async (email: string, ip: string, attempts: number) => {
    const errors = [];
    for (let attempt = 0; attempt < attempts; attempt += 1) errors.push((await login(email, 'wrong password 1', { 'x-forwarded-for': ip })).errors?.[0]);
    return errors;
  };

  it('delays an IP that keeps failing for one account progressively, not the owner elsewhere, and answers alike for unknown addresses', async () => {
    const ownerIp = { 'x-forwarded-for': '198.51.100.19' };
    const account = await registerAccount(platform.gatewayUrl, 'target', ownerIp);
    const attackerIp = '198.51.100.20';
    const unauthenticated = expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) });

    const againstAccount = await failures(account.email, attackerIp, 3);
    expect(againstAccount).toEqual([unauthenticated, unauthenticated, expect.objectContaining(delayed(1))]);
    // No account behind the address: the same answers, word for word.
    const againstNobody = await failures(`nobody-${Date.now()}@example.com`, '198.51.100.21', 3);
    const answers = (errors: typeof againstAccount) =>
      errors.map((error) => ({ message: error?.message, code: error?.extensions?.code, retryAfterSeconds: error?.extensions?.retryAfterSeconds }));
    expect(answers(againstNobody)).toEqual(answers(againstAccount));

    // The attacking IP waits even with the right password; the owner, from their own IP, does not.
    expect((await login(account.email, PASSWORD, { 'x-forwarded-for': attackerIp })).errors?.[0]).toMatchObject(delayed(1));
    expect((await login(account.email, PASSWORD, ownerIp)).errors).toBeUndefined();

    // Each further failure doubles the wait: polling with a wrong password, 2 s shows only once the 1 s wait is over, 4 s once the 2 s one is.
    const firstFailureWith = (seconds: number) =>
      eventually(`a failure starting a ${seconds} s wait`, async () => {
        const [error] = await failures(account.email, attackerIp, 1);
        return error?.extensions?.retryAfterSeconds === seconds ? Date.now() : undefined;
      }, 15_000);
    const twoSecondsFrom = await firstFailureWith(2);
    const fourSecondsFrom = await firstFailureWith(4);
    expect(fourSecondsFrom - twoSecondsFrom).toBeGreaterThanOrEqual(1_900);
    expect((await login(account.email, PASSWORD, ownerIp)).errors).toBeUndefined();
  });

  it('past the hourly ceiling of failures across IPs, delays IPs new to the account, not those it signed in from', async () => {
    const ownerIp = { 'x-forwarded-for': '198.51.100.40' };
    const account = await registerAccount(platform.gatewayUrl, 'distributed', ownerIp);
    const codes = [];
    for (let attempt = 1; attempt <= 9; attempt += 1) codes.push((await failures(account.email, `192.0.2.${attempt}`, 1))[0]?.extensions?.code);
    expect(codes).toEqual([...Array(8).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);

    expect((await login(account.email, PASSWORD, { 'x-forwarded-for': '192.0.2.100' })).errors?.[0]).toMatchObject(delayed(1));
    expect((await login(account.email, PASSWORD, ownerIp)).errors).toBeUndefined();
  });

  it('blocks a client IP that tries many accounts, not the others', async () => {
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

  it("resets a forgotten password while sign-in is delayed, and the reset starts the IP's count over", async () => {
    const ownerIp = { 'x-forwarded-for': '198.51.100.50' };
    const account = await registerAccount(platform.gatewayUrl, 'forgetful', ownerIp);
    await failures(account.email, ownerIp['x-forwarded-for'], 3);
    expect((await login(account.email, PASSWORD, ownerIp)).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    await graphqlData(platform.gatewayUrl, REQUEST_RESET, { variables: { input: { email: account.email } }, headers: ownerIp });
    const email = await platform.smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Reset your Multipult password');
    const token = /reset-password\?token=([A-Za-z0-9_-]+)/.exec(email.text)?.[1];
    const newPassword = 'a brand new passphrase 8';
    expect(await graphqlData(platform.gatewayUrl, RESET, { variables: { input: { token, newPassword } }, headers: ownerIp })).toEqual({
      resetPassword: { passwordChanged: true },
    });

    // Counted from zero again: two failures are plain failures, not a longer wait.
    expect((await failures(account.email, ownerIp['x-forwarded-for'], 2)).map((error) => error?.extensions?.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect((await login(account.email, newPassword, ownerIp)).errors).toBeUndefined();
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
