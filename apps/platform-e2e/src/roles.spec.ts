import { randomUUID } from 'node:crypto';
import { Platform, graphql, graphqlData } from '@multipult/testing';
import { Account, addTenantMember, createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';
import { nextClockSecond } from './support/clock';

const CREATE_ROLE = `mutation($input: CreateTenantRoleInput!) { createTenantRole(input: $input) { role { id name permissions builtIn } } }`;
const UPDATE_ROLE = `mutation($input: UpdateTenantRoleInput!) { updateTenantRole(input: $input) { role { id permissions } } }`;
const DELETE_ROLE = `mutation($input: TenantRoleInput!) { deleteTenantRole(input: $input) { deletedRoleId } }`;
const ADD_MEMBER = `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { role { name } } } }`;
const CHANGE_ROLE = `mutation($input: ChangeTenantMemberRoleInput!) { changeTenantMemberRole(input: $input) { membership { role { name } } } }`;
const SWITCH = `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`;
const CREATE_DOCUMENT = `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`;
const DOCUMENT = { title: 'Role check', body: 'Written by a custom role.', type: 'ARTICLE', language: 'en' };

describe('custom roles per tenant', () => {
  let platform: Platform;
  let admin: Account & { token: string; tenantId: string };
  const asAdmin = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) =>
    graphql<T>(platform.gatewayUrl, query, { token: admin.token, variables });

  const member = (name: string, role: string) => addTenantMember(platform.gatewayUrl, admin, name, role);

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'role-admin');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    admin = { ...account, token: tenant.accessToken, tenantId: tenant.tenantId };
  });

  it('creates a role from catalogued permissions, which its members get in every service', async () => {
    const catalog = await graphqlData<{ permissionCatalog: { permission: string }[] }>(platform.gatewayUrl, '{ permissionCatalog { permission description } }', {
      token: admin.token,
    });
    expect(catalog.permissionCatalog.map((entry) => entry.permission)).toEqual(expect.arrayContaining(['content:write', 'tenant:manage_roles']));

    const created = await asAdmin<{ createTenantRole: { role: { id: string } } }>(CREATE_ROLE, {
      input: { name: 'editor', permissions: ['content:write', 'content:read', 'tenant:read', 'content:read'] },
    });
    expect(created.data?.createTenantRole.role).toMatchObject({ name: 'editor', permissions: ['content:read', 'content:write', 'tenant:read'], builtIn: false });
    const roles = await graphqlData<{ tenantRoles: { name: string; builtIn: boolean }[] }>(platform.gatewayUrl, '{ tenantRoles { name builtIn } }', { token: admin.token });
    expect(roles.tenantRoles).toEqual([
      { name: 'admin', builtIn: true },
      { name: 'member', builtIn: true },
      { name: 'viewer', builtIn: true },
      { name: 'editor', builtIn: false },
    ]);

    const editor = await member('editor', 'editor');
    expect((await graphql(platform.gatewayUrl, CREATE_DOCUMENT, { token: editor.token, variables: { input: DOCUMENT } })).errors).toBeUndefined();
    const audit = await graphql(platform.gatewayUrl, '{ tenantAuditLog { totalCount } }', { token: editor.token });
    expect(audit.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses unknown permissions, taken or built-in names and malformed input with typed errors', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'flyer', permissions: ['content:fly'] }, 'BAD_USER_INPUT'],
      [{ name: 'Bad Name', permissions: ['content:read'] }, 'BAD_USER_INPUT'],
      [{ name: 'empty', permissions: [] }, 'BAD_USER_INPUT'],
      [{ name: 'admin', permissions: ['content:read'] }, 'CONFLICT'],
      [{ name: 'editor', permissions: ['content:read'] }, 'CONFLICT'],
    ];
    for (const [input, code] of cases) {
      const result = await asAdmin(CREATE_ROLE, { input });
      expect([input.name, result.errors?.[0]?.extensions?.code]).toEqual([input.name, code]);
    }
    const builtIn = (await graphqlData<{ tenantRoles: { id: string; name: string }[] }>(platform.gatewayUrl, '{ tenantRoles { id name } }', { token: admin.token })).tenantRoles.find(
      (role) => role.name === 'viewer',
    )!;
    expect((await asAdmin(UPDATE_ROLE, { input: { roleId: builtIn.id, permissions: ['*'] } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await asAdmin(DELETE_ROLE, { input: { roleId: randomUUID() } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await asAdmin(DELETE_ROLE, { input: { roleId: 'nope' } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await asAdmin(ADD_MEMBER, { input: { email: 'x@example.com', role: 'ghost' } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('lets nobody hand out permissions they do not hold', async () => {
    await asAdmin(CREATE_ROLE, { input: { name: 'manager', permissions: ['tenant:manage_members', 'tenant:manage_roles', 'tenant:read', 'content:read'] } });
    const manager = await member('manager', 'manager');
    const target = await registerAccount(platform.gatewayUrl, 'target');
    const asManager = (query: string, variables: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: manager.token, variables });

    const escalations = [
      await asManager(ADD_MEMBER, { input: { email: target.email, role: 'admin' } }),
      await asManager(CREATE_ROLE, { input: { name: 'writer', permissions: ['content:write'] } }),
      await asManager(CREATE_ROLE, { input: { name: 'all-content', permissions: ['content:*'] } }),
      await asManager(`mutation($input: InviteTenantMemberInput!) { inviteTenantMember(input: $input) { invitation { id } } }`, {
        input: { email: 'invitee@example.com', role: 'editor' },
      }),
    ];
    for (const refused of escalations) expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    expect((await asManager(CREATE_ROLE, { input: { name: 'reader', permissions: ['content:read'] } })).errors).toBeUndefined();
    expect((await asManager(ADD_MEMBER, { input: { email: target.email, role: 'reader' } })).errors).toBeUndefined();
  });

  it("changes a role's permissions for its members at once, and deletes it only when nobody holds it", async () => {
    const role = (await asAdmin<{ createTenantRole: { role: { id: string } } }>(CREATE_ROLE, { input: { name: 'temp-writer', permissions: ['content:write', 'tenant:read'] } }))
      .data!.createTenantRole.role;
    const writer = await member('temp-writer', 'temp-writer');
    expect((await graphql(platform.gatewayUrl, CREATE_DOCUMENT, { token: writer.token, variables: { input: DOCUMENT } })).errors).toBeUndefined();
    await nextClockSecond();

    const updated = await asAdmin(UPDATE_ROLE, { input: { roleId: role.id, permissions: ['content:read', 'tenant:read'] } });
    expect(updated.data).toEqual({ updateTenantRole: { role: { id: role.id, permissions: ['content:read', 'tenant:read'] } } });
    expect((await graphql(platform.gatewayUrl, CREATE_DOCUMENT, { token: writer.token, variables: { input: DOCUMENT } })).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    await nextClockSecond();
    const refreshed = await graphqlData<{ refreshTokens: { accessToken: string } }>(platform.gatewayUrl, REFRESH, {
      variables: { input: { refreshToken: writer.refreshToken } },
    });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(platform.gatewayUrl, SWITCH, {
      token: refreshed.refreshTokens.accessToken,
      variables: { input: { tenantId: admin.tenantId } },
    });
    const reader = switched.switchTenant.accessToken;
    expect((await graphql(platform.gatewayUrl, CREATE_DOCUMENT, { token: reader, variables: { input: DOCUMENT } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    expect((await asAdmin(DELETE_ROLE, { input: { roleId: role.id } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await asAdmin(CHANGE_ROLE, { input: { userId: writer.userId, role: 'viewer' } });
    expect((await asAdmin(DELETE_ROLE, { input: { roleId: role.id } })).data).toEqual({ deleteTenantRole: { deletedRoleId: role.id } });

    const log = await graphqlData<{ tenantAuditLog: { edges: { node: { action: string } }[] } }>(
      platform.gatewayUrl,
      `query($filter: AuditLogFilter) { tenantAuditLog(filter: $filter) { edges { node { action } } } }`,
      { token: admin.token, variables: { filter: { targetId: role.id } } },
    );
    expect(log.tenantAuditLog.edges.map((edge) => edge.node.action)).toEqual(['role.deleted', 'role.updated', 'role.created']);
  });

  it("cannot touch another tenant's roles", async () => {
    const stranger = await registerAccount(platform.gatewayUrl, 'stranger');
    const strangerTenant = await createTenantFor(platform.gatewayUrl, stranger);
    const foreign = await graphqlData<{ createTenantRole: { role: { id: string } } }>(platform.gatewayUrl, CREATE_ROLE, {
      token: strangerTenant.accessToken,
      variables: { input: { name: 'editor', permissions: ['content:read'] } },
    });
    const foreignId = foreign.createTenantRole.role.id;
    expect((await asAdmin(UPDATE_ROLE, { input: { roleId: foreignId, permissions: ['*'] } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await asAdmin(DELETE_ROLE, { input: { roleId: foreignId } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const roles = await graphqlData<{ tenantRoles: { id: string }[] }>(platform.gatewayUrl, '{ tenantRoles { id } }', { token: admin.token });
    expect(roles.tenantRoles.map((role) => role.id)).not.toContain(foreignId);
  });
});
