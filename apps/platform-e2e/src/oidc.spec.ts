import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LocalOidcProvider, graphql, graphqlData } from '@multipult/testing';
import { PASSWORD, registerAccount } from './support/accounts';
import { OIDC_REDIRECT_URI as REDIRECT_URI, PlatformOf, usePlatform } from './support/platforms';

const START = `mutation($input: StartOidcLoginInput!) { startOidcLogin(input: $input) { authorizationUrl expiresAt } }`;
const COMPLETE = `mutation($input: CompleteOidcLoginInput!) { completeOidcLogin(input: $input) { accessToken refreshToken user { id email emailVerified displayName } } }`;

interface Completed {
  completeOidcLogin: { accessToken: string; user: { id: string; email: string; emailVerified: boolean; displayName: string } };
}

describe('sign-in with an OpenID provider (authorization code + PKCE)', () => {
  let provider: LocalOidcProvider;
  let platform: PlatformOf<'default'>;

  beforeAll(async () => {
    platform = await usePlatform('default');
    provider = platform.oidcProvider;
  });

  async function start(): Promise<URL> {
    const started = await graphqlData<{ startOidcLogin: { authorizationUrl: string } }>(platform.gatewayUrl, START, {
      variables: { input: { provider: 'local', redirectUri: REDIRECT_URI } },
    });
    const url = new URL(started.startOidcLogin.authorizationUrl);
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    for (const parameter of ['code_challenge', 'state', 'nonce']) expect(url.searchParams.get(parameter)).toBeTruthy();
    return url;
  }
  const complete = (callbackUrl: URL | string) => graphql<Completed>(platform.gatewayUrl, COMPLETE, { variables: { input: { callbackUrl: String(callbackUrl) } } });

  it('lists the provider, and signs a new person in with a new, confirmed account; the next time, the same account', async () => {
    const providers = await graphqlData<{ oidcProviders: { id: string; name: string }[] }>(platform.gatewayUrl, '{ oidcProviders { id name } }');
    expect(providers.oidcProviders).toEqual([{ id: 'local', name: 'Local SSO' }]);

    const sub = `alice-${randomUUID()}`;
    const email = `${sub}@sso.example.com`;
    await provider.addAccount({ sub, email, email_verified: true, name: 'Alice Sso' });
    const first = await complete(await provider.authorize((await start()).href, sub));
    expect(first.errors).toBeUndefined();
    expect(first.data?.completeOidcLogin.user).toMatchObject({ email, emailVerified: true, displayName: 'Alice Sso' });
    const me = await graphqlData<{ me: { id: string } }>(platform.gatewayUrl, '{ me { id } }', { token: first.data!.completeOidcLogin.accessToken });
    expect(me.me.id).toBe(first.data!.completeOidcLogin.user.id);

    const again = await complete(await provider.authorize((await start()).href, sub));
    expect(again.data?.completeOidcLogin.user.id).toBe(first.data!.completeOidcLogin.user.id);
  });

  it('links an existing account by its verified address, which keeps its password', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'linked');
    const sub = `linked-${randomUUID()}`;
    await provider.addAccount({ sub, email: account.email, email_verified: true, name: 'Linked' });
    const signedIn = await complete(await provider.authorize((await start()).href, sub));
    expect(signedIn.data?.completeOidcLogin.user).toMatchObject({ id: account.userId, emailVerified: true });
    const password = await graphql(platform.gatewayUrl, `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, {
      variables: { input: { email: account.email, password: PASSWORD } },
    });
    expect(password.errors).toBeUndefined();
  });

  it('refuses an address the provider did not verify, so nobody takes over an account by claiming its address', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'victim');
    const sub = `claimer-${randomUUID()}`;
    await provider.addAccount({ sub, email: account.email, email_verified: false, name: 'Claimer' });
    const refused = await complete(await provider.authorize((await start()).href, sub));
    expect(refused.errors?.[0]).toMatchObject({ message: 'The sign-in provider did not confirm your email address', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('refuses a verified address that accounts cannot hold (no domain) with a clear error, and creates no account', async () => {
    const sub = `intranet-${randomUUID()}`;
    const email = `${sub}@intranet`;
    await provider.addAccount({ sub, email, email_verified: true, name: 'Intranet' });
    const refused = await complete(await provider.authorize((await start()).href, sub));
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors?.[0]).toMatchObject({ message: 'The sign-in provider gave an email address this platform cannot use', extensions: { code: 'UNAUTHENTICATED' } });
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS count FROM auth.users WHERE email = $1', [email])).rows[0].count).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('refuses a forged or reused state, a tampered code and a redirect elsewhere', async () => {
    const sub = `bob-${randomUUID()}`;
    await provider.addAccount({ sub, email: `${sub}@sso.example.com`, email_verified: true, name: 'Bob' });
    const callback = await provider.authorize((await start()).href, sub);

    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state-value');
    expect((await complete(forged)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'callbackUrl' })] });

    const tampered = new URL(callback);
    tampered.searchParams.set('code', 'not-the-code');
    expect((await complete(tampered)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The state was spent by that attempt: the genuine callback cannot be replayed after it.
    expect((await complete(callback)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const fresh = await provider.authorize((await start()).href, sub);
    expect((await complete(fresh)).errors).toBeUndefined();
    expect((await complete(fresh)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const elsewhere = await graphql(platform.gatewayUrl, START, { variables: { input: { provider: 'local', redirectUri: 'https://evil.example.com/callback' } } });
    expect(elsewhere.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'redirectUri' })] });
    const unknown = await graphql(platform.gatewayUrl, START, { variables: { input: { provider: 'nope', redirectUri: REDIRECT_URI } } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
