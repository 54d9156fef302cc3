import { SmtpCapture, graphql, graphqlData } from '@multipult/testing';
import { randomUUID } from 'node:crypto';
import { PASSWORD, REGISTER, createTenantFor, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

const VERIFY = `mutation($input: EmailTokenInput!) { verifyEmail(input: $input) { user { id emailVerified } } }`;
const REQUEST_RESET = `mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { passwordChanged } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const NEW_PASSWORD = 'a brand new passphrase 7';

/** The token in the link of an email's text part. */
function tokenFrom(text: string, path: string): string {
  const match = new RegExp(`https://app\\.example${path}\\?token=([A-Za-z0-9_-]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

describe('email verification and password reset through the gateway', () => {
  let platform: PlatformOf<'default'>;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    platform = await usePlatform('default');
    smtp = platform.smtp;
  });

  it('sends a confirmation link at sign-up that verifies the address once', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'verifier');
    const me = () => graphqlData<{ me: { emailVerified: boolean } }>(platform.gatewayUrl, '{ me { emailVerified } }', { token: account.accessToken });
    expect(await me()).toEqual({ me: { emailVerified: false } });
    const email = await smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Confirm your email address');
    const token = tokenFrom(email.text, '/verify-email');

    const verified = await graphqlData<{ verifyEmail: { user: { id: string; emailVerified: boolean | null } } }>(platform.gatewayUrl, VERIFY, {
      variables: { input: { token } },
      token: account.accessToken,
    });
    expect(verified.verifyEmail.user).toEqual({ id: account.userId, emailVerified: true });
    expect(await me()).toEqual({ me: { emailVerified: true } });

    for (const reused of [token, 'x'.repeat(43)]) {
      const refused = await graphql(platform.gatewayUrl, VERIFY, { variables: { input: { token: reused } } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'token' })] });
    }
    const again = await graphql(platform.gatewayUrl, 'mutation { requestEmailVerification { expiresAt } }', { token: account.accessToken });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('re-sends confirmation links on request, only the newest working, and limits how often', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'resender');
    const first = tokenFrom((await smtp.waitFor((m) => m.to.includes(account.email) && m.subject === 'Confirm your email address')).text, '/verify-email');
    const request = () => graphql<{ requestEmailVerification: { expiresAt: string } }>(platform.gatewayUrl, 'mutation { requestEmailVerification { expiresAt } }', {
      token: account.accessToken,
    });
    const resent = await request();
    expect(new Date(resent.data?.requestEmailVerification.expiresAt ?? 0).getTime()).toBeGreaterThan(Date.now() + 47 * 3_600_000);
    await smtp.waitFor((m) => m.to.includes(account.email) && m.subject === 'Confirm your email address' && !m.text.includes(first));
    const stale = await graphql(platform.gatewayUrl, VERIFY, { variables: { input: { token: first } } });
    expect(stale.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    await request();
    await request();
    const limited = await request();
    expect(limited.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('resets a forgotten password by emailed link, signing out every session, without revealing which addresses have accounts', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'forgetful');
    const unknown = await graphqlData<{ requestPasswordReset: { accepted: boolean } }>(platform.gatewayUrl, REQUEST_RESET, {
      variables: { input: { email: 'nobody-here@example.com' } },
    });
    expect(unknown.requestPasswordReset.accepted).toBe(true);
    const known = await graphqlData<{ requestPasswordReset: { accepted: boolean } }>(platform.gatewayUrl, REQUEST_RESET, {
      variables: { input: { email: account.email.toUpperCase() } },
    });
    expect(known.requestPasswordReset.accepted).toBe(true);
    const email = await smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Reset your Multipult password');
    const token = tokenFrom(email.text, '/reset-password');
    expect(smtp.received.some((message) => message.to.includes('nobody-here@example.com'))).toBe(false);

    const weak = await graphql(platform.gatewayUrl, RESET, { variables: { input: { token, newPassword: 'short' } } });
    expect(weak.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'newPassword' })] });

    const reset = await graphqlData<{ resetPassword: { passwordChanged: boolean } }>(platform.gatewayUrl, RESET, {
      variables: { input: { token, newPassword: NEW_PASSWORD } },
    });
    expect(reset.resetPassword.passwordChanged).toBe(true);

    const oldToken = await graphql(platform.gatewayUrl, '{ me { id } }', { token: account.accessToken });
    expect(oldToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const oldRefresh = await graphql(platform.gatewayUrl, `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`, {
      variables: { input: { refreshToken: account.refreshToken } },
    });
    expect(oldRefresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const oldPassword = await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email: account.email, password: PASSWORD } } });
    expect(oldPassword.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const login = await graphqlData<{ login: { accessToken: string } }>(platform.gatewayUrl, LOGIN, {
      variables: { input: { email: account.email, password: NEW_PASSWORD } },
    });
    const me = await graphqlData<{ me: { id: string; emailVerified: boolean } }>(platform.gatewayUrl, '{ me { id emailVerified } }', {
      token: login.login.accessToken,
    });
    expect(me.me).toEqual({ id: account.userId, emailVerified: true });
    const alert = await smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Your Multipult password was changed');
    expect(alert.text).toContain('every session was signed out');

    const reused = await graphql(platform.gatewayUrl, RESET, { variables: { input: { token, newPassword: 'yet another passphrase 8' } } });
    expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'token' })] });
  });

  it('invites by email: the invitee signs up with that address and accepts into the tenant, once', async () => {
    const admin = await registerAccount(platform.gatewayUrl, 'inviter');
    const tenant = await createTenantFor(platform.gatewayUrl, admin);
    const asAdmin = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: tenant.accessToken, variables });
    const INVITE = `mutation($input: InviteTenantMemberInput!) { inviteTenantMember(input: $input) { invitation { id email role expiresAt } } }`;
    const ACCEPT = `mutation($input: EmailTokenInput!) { acceptTenantInvitation(input: $input) { membership { tenant { id } role { name } } } }`;
    const inviteeEmail = `invitee-${randomUUID()}@example.com`;

    const invited = await asAdmin(INVITE, { input: { email: inviteeEmail.toUpperCase(), role: 'member' } });
    expect(invited.data).toMatchObject({ inviteTenantMember: { invitation: { email: inviteeEmail, role: 'member' } } });
    const email = await smtp.waitFor((message) => message.to.includes(inviteeEmail));
    expect(email.subject).toMatch(/^inviter invited you to Tenant t-/);
    const token = tokenFrom(email.text, '/invitations/accept');
    expect((await asAdmin('{ tenantInvitations { email role } }')).data).toEqual({ tenantInvitations: [{ email: inviteeEmail, role: 'member' }] });

    const someoneElse = await registerAccount(platform.gatewayUrl, 'interloper');
    const wrongAddress = await graphql(platform.gatewayUrl, ACCEPT, { token: someoneElse.accessToken, variables: { input: { token } } });
    expect(wrongAddress.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const registered = await graphqlData<{ register: { accessToken: string; user: { id: string } } }>(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: inviteeEmail, password: PASSWORD, displayName: 'Invitee' } },
    });
    const accepted = await graphqlData<{ acceptTenantInvitation: { membership: { tenant: { id: string }; role: { name: string } } } }>(
      platform.gatewayUrl,
      ACCEPT,
      { token: registered.register.accessToken, variables: { input: { token } } },
    );
    expect(accepted.acceptTenantInvitation.membership).toEqual({ tenant: { id: tenant.tenantId }, role: { name: 'member' } });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: registered.register.accessToken, variables: { input: { tenantId: tenant.tenantId } } },
    );
    expect((await asAdmin('{ tenantInvitations { email } }')).data).toEqual({ tenantInvitations: [] });
    const reused = await graphql(platform.gatewayUrl, ACCEPT, { token: registered.register.accessToken, variables: { input: { token } } });
    expect(reused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'token' })] });

    expect((await asAdmin(INVITE, { input: { email: inviteeEmail, role: 'viewer' } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const revokedAddress = `revoked-${randomUUID()}@example.com`;
    const pending = await asAdmin(INVITE, { input: { email: revokedAddress, role: 'viewer' } });
    const revokedToken = tokenFrom((await smtp.waitFor((message) => message.to.includes(revokedAddress))).text, '/invitations/accept');
    const invitationId = (pending.data as { inviteTenantMember: { invitation: { id: string } } }).inviteTenantMember.invitation.id;
    await asAdmin(`mutation($input: TenantInvitationIdInput!) { revokeTenantInvitation(input: $input) { revokedInvitationId } }`, { input: { id: invitationId } });
    const late = await graphqlData<{ register: { accessToken: string } }>(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: revokedAddress, password: PASSWORD, displayName: 'Late' } },
    });
    const refused = await graphql(platform.gatewayUrl, ACCEPT, { token: late.register.accessToken, variables: { input: { token: revokedToken } } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const notAdmin = await graphql(platform.gatewayUrl, INVITE, {
      token: switched.switchTenant.accessToken,
      variables: { input: { email: 'x@example.com', role: 'admin' } },
    });
    expect(notAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
