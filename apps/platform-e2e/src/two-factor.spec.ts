import { Client } from 'pg';
import { Platform, graphql, graphqlData } from '@multipult/testing';
import { Account, PASSWORD, registerAccount } from './support/accounts';
import { totpCode } from './support/totp';
import { usePlatform } from './support/platforms';

const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const COMPLETE = `mutation($input: CompleteMfaLoginInput!) { completeMfaLogin(input: $input) { accessToken refreshToken user { id } } }`;
const ENROLL = `mutation { enrollTotp { secret otpauthUri qrCodeDataUrl } }`;
const CONFIRM = `mutation($input: TwoFactorCodeInput!) { confirmTotp(input: $input) { backupCodes } }`;
const DISABLE = `mutation($input: TwoFactorCodeInput!) { disableTotp(input: $input) { disabled } }`;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('two-factor sign-in (TOTP)', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  const login = (account: Account) => graphql<{ login: { accessToken: string } }>(platform.gatewayUrl, LOGIN, { variables: { input: { email: account.email, password: PASSWORD } } });
  /** A password sign-in of an account with 2FA on: the challenge it answers with. */
  async function challenge(account: Account): Promise<string> {
    const answer = await login(account);
    expect(answer.errors?.[0]).toMatchObject({ extensions: { code: 'MFA_REQUIRED', expiresInSeconds: 300 } });
    expect(answer.data).toBeNull();
    return answer.errors![0].extensions!.challengeToken as string;
  }
  const complete = (challengeToken: string, code: string) =>
    graphql<{ completeMfaLogin: { accessToken: string; user: { id: string } } }>(platform.gatewayUrl, COMPLETE, { variables: { input: { challengeToken, code } } });

  async function enrolled(name: string) {
    const account = await registerAccount(platform.gatewayUrl, name);
    const enrollment = await graphqlData<{ enrollTotp: { secret: string; otpauthUri: string; qrCodeDataUrl: string } }>(platform.gatewayUrl, ENROLL, {
      token: account.accessToken,
    });
    const { backupCodes } = (
      await graphqlData<{ confirmTotp: { backupCodes: string[] } }>(platform.gatewayUrl, CONFIRM, {
        token: account.accessToken,
        variables: { input: { code: totpCode(enrollment.enrollTotp.secret) } },
      })
    ).confirmTotp;
    return { account, secret: enrollment.enrollTotp.secret, backupCodes };
  }

  it('enrols with a secret, an otpauth URI and a PNG QR code, and turns on only with a right code', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'enrolling');
    const { enrollTotp } = await graphqlData<{ enrollTotp: { secret: string; otpauthUri: string; qrCodeDataUrl: string } }>(platform.gatewayUrl, ENROLL, {
      token: account.accessToken,
    });
    expect(enrollTotp.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(enrollTotp.otpauthUri);
    expect([uri.protocol, uri.host, decodeURIComponent(uri.pathname)]).toEqual(['otpauth:', 'totp', `/Multipult:${account.email}`]);
    expect(uri.searchParams.get('secret')).toBe(enrollTotp.secret);
    expect(enrollTotp.qrCodeDataUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(enrollTotp.qrCodeDataUrl.split(',')[1], 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE);

    // Not on until confirmed: the password alone still signs in.
    expect((await login(account)).errors).toBeUndefined();
    for (const code of ['000000', 'abc']) {
      const wrong = await graphql(platform.gatewayUrl, CONFIRM, { token: account.accessToken, variables: { input: { code } } });
      expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const confirmed = await graphqlData<{ confirmTotp: { backupCodes: string[] } }>(platform.gatewayUrl, CONFIRM, {
      token: account.accessToken,
      variables: { input: { code: totpCode(enrollTotp.secret) } },
    });
    expect(confirmed.confirmTotp.backupCodes).toHaveLength(10);
    expect(new Set(confirmed.confirmTotp.backupCodes).size).toBe(10);
    expect((await graphql(platform.gatewayUrl, ENROLL, { token: account.accessToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('signs in with a TOTP code once: the same code is refused the second time', async () => {
    const { account, secret } = await enrolled('totp-login');
    // The confirming code's time step is spent: an authenticator a little ahead shows the next step's
    // code, which the service accepts (one step of drift) as a step after the spent one.
    const code = totpCode(secret, Date.now() + 30_000);
    const signedIn = await complete(await challenge(account), code);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data?.completeMfaLogin.user.id).toBe(account.userId);
    expect((await graphql(platform.gatewayUrl, '{ me { id } }', { token: signedIn.data!.completeMfaLogin.accessToken })).errors).toBeUndefined();

    const replayed = await complete(await challenge(account), code);
    expect(replayed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('signs in with a backup code once, in any case and with or without its dash', async () => {
    const { account, backupCodes } = await enrolled('backup-login');
    const typed = backupCodes[0].replace('-', '').toLowerCase();
    expect((await complete(await challenge(account), typed)).errors).toBeUndefined();
    const again = await complete(await challenge(account), backupCodes[0]);
    expect(again.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await complete(await challenge(account), backupCodes[1])).errors).toBeUndefined();
  });

  it('drops a challenge after too many wrong codes, and refuses unknown challenges', async () => {
    const { account, backupCodes } = await enrolled('guessing');
    const token = await challenge(account);
    expect((await complete(token, '111111')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await complete(token, '222222')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await complete(token, '333333')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await complete(token, backupCodes[0])).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await complete('forged-challenge-token', backupCodes[0])).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('asks for a second factor to change the password or delete the account, and replaces backup codes', async () => {
    const { account, backupCodes } = await enrolled('sensitive');
    const change = (code?: string) =>
      graphql(platform.gatewayUrl, `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { otherSessionsRevoked } }`, {
        token: account.accessToken,
        variables: { input: { currentPassword: PASSWORD, newPassword: 'another long passphrase 2', ...(code ? { code } : {}) } },
      });
    expect((await change()).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'code' })] });
    const deletion = await graphql(platform.gatewayUrl, `mutation($input: DeleteMyAccountInput!) { deleteMyAccount(input: $input) { id } }`, {
      token: account.accessToken,
      variables: { input: { password: PASSWORD } },
    });
    expect(deletion.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await change(backupCodes[0])).errors).toBeUndefined();

    const regenerated = await graphqlData<{ regenerateBackupCodes: { backupCodes: string[] } }>(
      platform.gatewayUrl,
      `mutation($input: TwoFactorCodeInput!) { regenerateBackupCodes(input: $input) { backupCodes } }`,
      { token: account.accessToken, variables: { input: { code: backupCodes[1] } } },
    );
    expect(regenerated.regenerateBackupCodes.backupCodes).toHaveLength(10);
    const login = (password: string) =>
      graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email: account.email, password } } }).then(
        (answer) => answer.errors![0].extensions!.challengeToken as string,
      );
    expect((await complete(await login('another long passphrase 2'), backupCodes[2])).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await complete(await login('another long passphrase 2'), regenerated.regenerateBackupCodes.backupCodes[0])).errors).toBeUndefined();
  });

  it('turns off with a code; then the password alone signs in again, and the audit log shows both', async () => {
    const { account, backupCodes } = await enrolled('disabling');
    const wrong = await graphql(platform.gatewayUrl, DISABLE, { token: account.accessToken, variables: { input: { code: 'AAAAA-BBBBB' } } });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await graphqlData(platform.gatewayUrl, DISABLE, { token: account.accessToken, variables: { input: { code: backupCodes[3] } } }))).toEqual({
      disableTotp: { disabled: true },
    });
    expect((await login(account)).errors).toBeUndefined();

    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT action FROM auth.audit_log WHERE target_id = $1 AND action LIKE 'mfa.%' ORDER BY id`, [account.userId]);
      expect(rows.map((row) => row.action)).toEqual(['mfa.enabled', 'mfa.disabled']);
    } finally {
      await client.end();
    }
  });
});
