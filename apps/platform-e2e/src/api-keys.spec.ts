import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { Account, addTenantMember, createTenantFor, registerAccount } from './support/accounts';
import { grantPlatformRole, signIn } from './support/admin';
import { usePlatform } from './support/platforms';

const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name prefix scopes tenantId expiresAt lastUsedAt revokedAt } } }`;
const LIST = `{ apiKeys { id prefix scopes lastUsedAt revokedAt } }`;
const REVOKE = `mutation($input: ApiKeyInput!) { revokeApiKey(input: $input) { apiKey { id revokedAt } } }`;
const DOCUMENTS = `{ documents(first: 5) { totalCount } }`;
const CREATE_DOCUMENT = `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`;
const DOCUMENT = { title: 'By key', body: 'Written by a program.', type: 'ARTICLE', language: 'en' };

describe('API keys', () => {
  let platform: Platform;
  let owner: Account & { token: string; tenantId: string };

  const asOwner = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) =>
    graphql<T>(platform.gatewayUrl, query, { token: owner.token, variables });
  const withKey = (key: string, query: string, variables?: Record<string, unknown>, style: 'authorization' | 'header' = 'authorization') =>
    graphql(platform.gatewayUrl, query, { variables, headers: style === 'authorization' ? { authorization: `ApiKey ${key}` } : { 'x-api-key': key } });
  async function createKey(scopes: string[], token = owner.token, extra: Record<string, unknown> = {}) {
    return graphqlData<{ createApiKey: { key: string; apiKey: { id: string; prefix: string; scopes: string[] } } }>(platform.gatewayUrl, CREATE, {
      token,
      variables: { input: { name: 'ci', scopes, ...extra } },
    }).then((data) => data.createApiKey);
  }
  const memberOfOwnerTenant = (name: string, role: string) => addTenantMember(platform.gatewayUrl, owner, name, role);

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'key-owner');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    owner = { ...account, token: tenant.accessToken, tenantId: tenant.tenantId };
  });

  it('shows the key once and its prefix always; the key works in both header forms, at the gateway and a subgraph', async () => {
    const { key, apiKey } = await createKey(['content:read']);
    expect(key).toMatch(/^mpk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`${apiKey.prefix}_`)).toBe(true);
    expect(apiKey).toMatchObject({ scopes: ['content:read'], tenantId: owner.tenantId, expiresAt: null, lastUsedAt: null, revokedAt: null });

    for (const style of ['authorization', 'header'] as const) expect((await withKey(key, DOCUMENTS, undefined, style)).errors).toBeUndefined();
    const direct = await graphql(platform.contentUrl, DOCUMENTS, { headers: { 'x-api-key': key } });
    expect(direct.errors).toBeUndefined();

    const listed = await graphqlData<{ apiKeys: { id: string; prefix: string; lastUsedAt: string | null }[] }>(platform.gatewayUrl, LIST, { token: owner.token });
    const entry = listed.apiKeys.find((candidate) => candidate.id === apiKey.id)!;
    expect(entry.prefix).toBe(apiKey.prefix);
    expect(entry.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(key);
  });

  it('refuses a key an operation wider than its scopes', async () => {
    const { key } = await createKey(['content:read', 'tenant:read']);
    expect((await withKey(key, DOCUMENTS)).errors).toBeUndefined();
    const write = await withKey(key, CREATE_DOCUMENT, { input: DOCUMENT });
    expect(write.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const admin = await withKey(key, '{ tenantAuditLog { totalCount } }');
    expect(admin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const keys = await withKey(key, LIST);
    expect(keys.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('never grants more than the owner holds: at creation, and when the owner loses permissions later', async () => {
    const viewer = await memberOfOwnerTenant('key-viewer', 'viewer');
    const tooWide = await graphql(platform.gatewayUrl, CREATE, { token: viewer.token, variables: { input: { name: 'x', scopes: ['content:write'] } } });
    expect(tooWide.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await graphql(platform.gatewayUrl, CREATE, { token: viewer.token, variables: { input: { name: 'x', scopes: ['content:teleport'] } } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const writer = await memberOfOwnerTenant('key-writer', 'member');
    const { key } = await createKey(['content:read', 'content:write'], writer.token);
    expect((await withKey(key, CREATE_DOCUMENT, { input: DOCUMENT })).errors).toBeUndefined();
    await asOwner(`mutation($input: ChangeTenantMemberRoleInput!) { changeTenantMemberRole(input: $input) { membership { role { name } } } }`, {
      input: { userId: writer.userId, role: 'viewer' },
    });
    expect((await withKey(key, CREATE_DOCUMENT, { input: DOCUMENT })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await withKey(key, DOCUMENTS)).errors).toBeUndefined();

    await asOwner(`mutation($input: TenantMemberInput!) { removeTenantMember(input: $input) { removedUserId } }`, { input: { userId: writer.userId } });
    expect((await withKey(key, DOCUMENTS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('stops working when revoked, when expired, and when its owner is banned', async () => {
    const { key, apiKey } = await createKey(['content:read']);
    const revoked = await asOwner<{ revokeApiKey: { apiKey: { revokedAt: string } } }>(REVOKE, { input: { keyId: apiKey.id } });
    expect(revoked.data?.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    expect((await withKey(key, DOCUMENTS)).errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });

    const expiresAt = Date.now() + 1_500;
    const shortLived = await createKey(['content:read'], owner.token, { expiresAt: new Date(expiresAt).toISOString() });
    expect((await withKey(shortLived.key, DOCUMENTS)).errors).toBeUndefined();
    await eventually('the key to expire', async () => (await withKey(shortLived.key, DOCUMENTS)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED');
    // Refused because it expired, not before.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    const past = await graphql(platform.gatewayUrl, CREATE, { token: owner.token, variables: { input: { name: 'x', scopes: ['content:read'], expiresAt: '2020-01-01T00:00:00Z' } } });
    expect(past.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const member = await memberOfOwnerTenant('key-banned', 'member');
    const memberKey = await createKey(['content:read'], member.token);
    const ops = await registerAccount(platform.gatewayUrl, 'key-ops');
    await grantPlatformRole(platform, ops.email, 'platform_admin');
    const opsToken = await signIn(platform, ops.email);
    await graphqlData(platform.gatewayUrl, `mutation($input: BanUserInput!) { banUser(input: $input) { user { id } } }`, {
      token: opsToken,
      variables: { input: { userId: member.userId } },
    });
    expect((await withKey(memberKey.key, DOCUMENTS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses malformed and unknown keys, keys minting keys, and another user revoking a key', async () => {
    for (const key of ['nope', 'mpk_AAAAAAAA_short', `mpk_AAAAAAAA_${'x'.repeat(43)}`]) {
      expect((await withKey(key, DOCUMENTS)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    const { key, apiKey } = await createKey(['content:read']);
    const minted = await withKey(key, CREATE, { input: { name: 'child', scopes: ['content:read'] } });
    expect(minted.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const other = await memberOfOwnerTenant('key-other', 'admin');
    const foreign = await graphql(platform.gatewayUrl, REVOKE, { token: other.token, variables: { input: { keyId: apiKey.id } } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await withKey(key, DOCUMENTS)).errors).toBeUndefined();
  });
});
