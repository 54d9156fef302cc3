import { Platform, findTenantIsolationViolations, graphql, graphqlData } from '@multipult/testing';
import { PASSWORD, REGISTER, createTenantFor, decodeJwtPayload, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const ME = `{ me { id email displayName } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id email } } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken refreshToken } }`;

describe('auth through the gateway', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  it('registers, logs in and answers me', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'ann');
    const login = await graphqlData<{ login: { accessToken: string; user: { id: string; email: string } } }>(
      platform.gatewayUrl,
      LOGIN,
      { variables: { input: { email: account.email.toUpperCase(), password: PASSWORD } } },
    );
    expect(login.login.user).toEqual({ id: account.userId, email: account.email });

    const me = await graphqlData<{ me: { id: string; email: string; displayName: string } }>(platform.gatewayUrl, ME, {
      token: login.login.accessToken,
    });
    expect(me.me).toEqual({ id: account.userId, email: account.email, displayName: 'ann' });
  });

  it('refuses a wrong password and an unknown email with the same answer', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'bob');
    const wrongPassword = await graphql(platform.gatewayUrl, LOGIN, {
      variables: { input: { email: account.email, password: 'not the password 1' } },
    });
    const unknownEmail = await graphql(platform.gatewayUrl, LOGIN, {
      variables: { input: { email: 'nobody-here@example.com', password: 'not the password 1' } },
    });
    for (const result of [wrongPassword, unknownEmail]) {
      expect(result.status).toBe(200);
      expect(result.errors?.[0]).toMatchObject({
        message: 'Email or password is incorrect',
        extensions: { code: 'UNAUTHENTICATED' },
      });
    }
  });

  it('answers invalid emails, weak passwords and duplicates with typed, localized errors', async () => {
    const invalid = await graphql(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: 'not-an-email', password: 'short', displayName: 'x' } },
    });
    expect(invalid.status).toBe(200);
    expect(invalid.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(invalid.errors?.[0].extensions?.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'email', constraint: 'isEmail' }),
        expect.objectContaining({ field: 'password', constraint: 'weakPassword' }),
      ]),
    );

    const russian = await graphql(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: 'x@example.com', password: 'password123', displayName: 'x' } },
      headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' },
    });
    expect(russian.errors?.[0].message).toBe('Некорректные входные данные');
    expect(russian.errors?.[0].extensions?.fields?.[0].message).toMatch(/Слишком простой пароль/);

    const account = await registerAccount(platform.gatewayUrl, 'dup');
    const duplicate = await graphql(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: account.email, password: PASSWORD, displayName: 'again' } },
    });
    expect(duplicate.errors?.[0].extensions?.code).toBe('CONFLICT');

    const loginAfterFailures = await graphqlData<{ login: { user: { id: string } } }>(platform.gatewayUrl, LOGIN, {
      variables: { input: { email: account.email, password: PASSWORD } },
    });
    expect(loginAfterFailures.login.user.id).toBe(account.userId);
  });

  it('rotates refresh tokens and revokes the whole family when an old one is reused', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'carol');
    const first = await graphqlData<{ refreshTokens: { accessToken: string; refreshToken: string } }>(
      platform.gatewayUrl,
      REFRESH,
      { variables: { input: { refreshToken: account.refreshToken } } },
    );
    expect(first.refreshTokens.refreshToken).not.toBe(account.refreshToken);
    expect(decodeJwtPayload(first.refreshTokens.accessToken).sid).toBe(decodeJwtPayload(account.accessToken).sid);
    await graphqlData(platform.gatewayUrl, ME, { token: first.refreshTokens.accessToken });

    const reuse = await graphql(platform.gatewayUrl, REFRESH, { variables: { input: { refreshToken: account.refreshToken } } });
    expect(reuse.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    // The thief's reuse ended the session: the newest refresh token and the access tokens are dead too.
    const newest = await graphql(platform.gatewayUrl, REFRESH, {
      variables: { input: { refreshToken: first.refreshTokens.refreshToken } },
    });
    expect(newest.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const me = await graphql(platform.gatewayUrl, ME, { token: first.refreshTokens.accessToken });
    expect(me.status).toBe(401);
    expect(me.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logout stops the access token at the gateway and at the subgraph within a second', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'dave');
    await graphqlData(platform.gatewayUrl, ME, { token: account.accessToken });
    const logout = await graphqlData<{ logout: { sessionRevoked: boolean } }>(
      platform.gatewayUrl,
      `mutation { logout { sessionRevoked } }`,
      { token: account.accessToken },
    );
    expect(logout.logout.sessionRevoked).toBe(true);
    const startedAt = Date.now();
    const viaGateway = await graphql(platform.gatewayUrl, ME, { token: account.accessToken });
    const direct = await graphql(platform.authUrl, ME, { token: account.accessToken });
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(viaGateway.status).toBe(401);
    expect(viaGateway.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(direct.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    const refresh = await graphql(platform.gatewayUrl, REFRESH, { variables: { input: { refreshToken: account.refreshToken } } });
    expect(refresh.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('creates a tenant, adds a member, switches tenant and enforces roles', async () => {
    const owner = await registerAccount(platform.gatewayUrl, 'owner');
    const member = await registerAccount(platform.gatewayUrl, 'member');
    const { tenantId, accessToken: ownerToken } = await createTenantFor(platform.gatewayUrl, owner);
    expect(decodeJwtPayload(ownerToken)).toMatchObject({ tid: tenantId, ten: { [tenantId]: ['*'] } });

    const added = await graphqlData<{ addTenantMember: { membership: { user: { id: string }; role: { name: string } } } }>(
      platform.gatewayUrl,
      `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { user { id } role { name } } } }`,
      { token: ownerToken, variables: { input: { email: member.email, role: 'member' } } },
    );
    expect(added.addTenantMember.membership).toEqual({ user: { id: member.userId }, role: { name: 'member' } });

    const again = await graphql(
      platform.gatewayUrl,
      `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`,
      { token: ownerToken, variables: { input: { email: member.email, role: 'member' } } },
    );
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');

    const switched = await graphqlData<{ switchTenant: { accessToken: string; tenant: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken tenant { id } } }`,
      { token: member.accessToken, variables: { input: { tenantId } } },
    );
    expect(switched.switchTenant.tenant.id).toBe(tenantId);
    const memberToken = switched.switchTenant.accessToken;
    expect(decodeJwtPayload(memberToken).tid).toBe(tenantId);

    const members = await graphqlData<{ tenantMembers: { totalCount: number; edges: { node: { user: { id: string } } }[] } }>(
      platform.gatewayUrl,
      `{ tenantMembers(first: 1) { totalCount edges { cursor node { user { id } } } pageInfo { hasNextPage endCursor } } }`,
      { token: memberToken },
    );
    expect(members.tenantMembers.totalCount).toBe(2);
    expect(members.tenantMembers.edges).toHaveLength(1);

    const forbidden = await graphql(
      platform.gatewayUrl,
      `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`,
      { token: memberToken, variables: { input: { email: owner.email, role: 'admin' } } },
    );
    expect(forbidden.errors?.[0]).toMatchObject({
      message: 'Missing permission: tenant:manage_members',
      extensions: { code: 'FORBIDDEN' },
    });
  });

  it('isolates tenants across every auth operation', async () => {
    const alice = await registerAccount(platform.gatewayUrl, 'alice');
    const mallory = await registerAccount(platform.gatewayUrl, 'mallory');
    const tenantA = await createTenantFor(platform.gatewayUrl, alice);
    const tenantB = await createTenantFor(platform.gatewayUrl, mallory);
    const foreignIds = [tenantB.tenantId, mallory.userId];
    const asAlice = (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
      graphql(platform.gatewayUrl, query, { token: tenantA.accessToken, variables, headers });
    const asMallory = (query: string) => graphql(platform.gatewayUrl, query, { token: tenantB.accessToken });

    const violations = await findTenantIsolationViolations([
      { name: 'tenant(id)', kind: 'byId', foreignIds: [tenantB.tenantId], call: (id) => asAlice(`query($id: ID!) { tenant(id: $id) { id name } }`, { id }) },
      {
        name: 'switchTenant',
        kind: 'byId',
        foreignIds: [tenantB.tenantId],
        call: (id) =>
          asAlice(`mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`, { input: { tenantId: id } }),
      },
      {
        name: 'tenantMembers with x-tenant-id of another tenant',
        kind: 'byId',
        foreignIds: [tenantB.tenantId],
        call: (id) => asAlice(`{ tenantMembers { edges { node { user { id } } } } }`, undefined, { 'x-tenant-id': id }),
      },
      { name: 'tenantMembers', kind: 'list', foreignIds, call: () => asAlice(`{ tenantMembers { edges { node { tenant { id } user { id } } } } }`), ownerCall: () => asMallory(`{ tenantMembers { edges { node { tenant { id } user { id } } } } }`) },
      { name: 'myMemberships', kind: 'list', foreignIds, call: () => asAlice(`{ myMemberships { tenant { id } user { id } } }`), ownerCall: () => asMallory(`{ myMemberships { tenant { id } user { id } } }`) },
    ]);
    expect(violations).toEqual([]);
  });
});
