import { Platform, graphql, graphqlData } from '@multipult/testing';
import { Account, createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const SETTINGS = `{ tenantSettings { allowedEmailDomains memberLimit invitationTtlDays } }`;
const UPDATE = `mutation($input: UpdateTenantSettingsInput!) { updateTenantSettings(input: $input) { settings { allowedEmailDomains memberLimit invitationTtlDays } } }`;
const USAGE = `{ tenantUsage { members memberLimit pendingInvitations customRoles apiRequestsToday apiRequestsThisMonth } }`;
const ADD_MEMBER = `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { role { name } } } }`;
const INVITE = `mutation($input: InviteTenantMemberInput!) { inviteTenantMember(input: $input) { invitation { id expiresAt } } }`;

interface Usage {
  members: number;
  memberLimit: number | null;
  pendingInvitations: number;
  customRoles: number;
  apiRequestsToday: number;
  apiRequestsThisMonth: number;
}

describe('tenant settings and usage', () => {
  let platform: Platform;
  let admin: Account & { token: string; tenantId: string };
  const asAdmin = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) =>
    graphql<T>(platform.gatewayUrl, query, { token: admin.token, variables });
  const usage = async (token = admin.token) => (await graphqlData<{ tenantUsage: Usage }>(platform.gatewayUrl, USAGE, { token })).tenantUsage;

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'settings-admin');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    admin = { ...account, token: tenant.accessToken, tenantId: tenant.tenantId };
  });

  it('starts from defaults and changes only the given settings', async () => {
    expect((await asAdmin(SETTINGS)).data).toEqual({ tenantSettings: { allowedEmailDomains: [], memberLimit: null, invitationTtlDays: null } });
    const updated = await asAdmin(UPDATE, { input: { allowedEmailDomains: [' Example.COM ', 'example.com', 'corp.example.net'] } });
    expect(updated.data).toEqual({
      updateTenantSettings: { settings: { allowedEmailDomains: ['example.com', 'corp.example.net'], memberLimit: null, invitationTtlDays: null } },
    });
    const ttl = await asAdmin(UPDATE, { input: { invitationTtlDays: 3 } });
    expect(ttl.data).toEqual({
      updateTenantSettings: { settings: { allowedEmailDomains: ['example.com', 'corp.example.net'], memberLimit: null, invitationTtlDays: 3 } },
    });
    for (const input of [{ allowedEmailDomains: ['not a domain'] }, { memberLimit: 0 }, { invitationTtlDays: 365 }, { unknownSetting: true }]) {
      expect([input, (await asAdmin(UPDATE, { input })).errors?.[0]?.extensions?.code]).toEqual([input, 'BAD_USER_INPUT']);
    }
    const log = await graphqlData<{ tenantAuditLog: { totalCount: number } }>(platform.gatewayUrl, `{ tenantAuditLog(filter: { action: "tenant.settings_updated" }) { totalCount } }`, {
      token: admin.token,
    });
    expect(log.tenantAuditLog.totalCount).toBe(2);
  });

  it('admits only allowed email domains and uses the tenant invitation lifetime', async () => {
    const invited = await asAdmin<{ inviteTenantMember: { invitation: { expiresAt: string } } }>(INVITE, { input: { email: 'new@corp.example.net', role: 'viewer' } });
    const days = (Date.parse(invited.data!.inviteTenantMember.invitation.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(2.9);
    expect(days).toBeLessThanOrEqual(3);
    const outsider = await asAdmin(INVITE, { input: { email: 'someone@elsewhere.org', role: 'viewer' } });
    expect(outsider.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'email' })] });

    const account = await registerAccount(platform.gatewayUrl, 'allowed');
    expect((await asAdmin(ADD_MEMBER, { input: { email: account.email, role: 'viewer' } })).errors).toBeUndefined();
    await asAdmin(UPDATE, { input: { allowedEmailDomains: ['corp.example.net'] } });
    const refused = await registerAccount(platform.gatewayUrl, 'refused');
    expect((await asAdmin(ADD_MEMBER, { input: { email: refused.email, role: 'viewer' } })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await asAdmin(UPDATE, { input: { allowedEmailDomains: [] } });
  });

  it('keeps to the member limit, and counts usage per tenant', async () => {
    const before = await usage();
    expect(before).toMatchObject({ members: 2, memberLimit: null, pendingInvitations: 1, customRoles: 0 });
    await asAdmin(UPDATE, { input: { memberLimit: 3 } });
    const third = await registerAccount(platform.gatewayUrl, 'third');
    expect((await asAdmin(ADD_MEMBER, { input: { email: third.email, role: 'viewer' } })).errors).toBeUndefined();
    const fourth = await registerAccount(platform.gatewayUrl, 'fourth');
    const full = await asAdmin(ADD_MEMBER, { input: { email: fourth.email, role: 'viewer' } });
    expect(full.errors?.[0]).toMatchObject({ message: 'This tenant has reached its limit of 3 members', extensions: { code: 'CONFLICT' } });
    expect((await asAdmin(INVITE, { input: { email: 'late@example.com', role: 'viewer' } })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await asAdmin(UPDATE, { input: { memberLimit: null } });
    expect((await asAdmin(ADD_MEMBER, { input: { email: fourth.email, role: 'viewer' } })).errors).toBeUndefined();

    await asAdmin(`mutation { createTenantRole(input: { name: "auditor", permissions: ["audit:read"] }) { role { id } } }`);
    const other = await registerAccount(platform.gatewayUrl, 'other-tenant');
    const otherTenant = await createTenantFor(platform.gatewayUrl, other);
    const otherBefore = await usage(otherTenant.accessToken);

    const counted = await usage();
    for (let request = 0; request < 5; request += 1) await asAdmin('{ tenantSettings { memberLimit } }');
    const after = await usage();
    expect(after).toMatchObject({ members: 4, memberLimit: null, customRoles: 1 });
    expect(after.apiRequestsToday - counted.apiRequestsToday).toBeGreaterThanOrEqual(5);
    expect(after.apiRequestsThisMonth).toBeGreaterThanOrEqual(after.apiRequestsToday);
    const otherAfter = await usage(otherTenant.accessToken);
    expect(otherAfter.apiRequestsToday - otherBefore.apiRequestsToday).toBeLessThanOrEqual(1);
  });

  it('lets only members with tenant:manage_settings change settings', async () => {
    const viewer = await registerAccount(platform.gatewayUrl, 'viewer');
    await asAdmin(ADD_MEMBER, { input: { email: viewer.email, role: 'viewer' } });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(platform.gatewayUrl, `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`, {
      token: viewer.accessToken,
      variables: { input: { tenantId: admin.tenantId } },
    });
    const token = switched.switchTenant.accessToken;
    expect((await graphql(platform.gatewayUrl, SETTINGS, { token })).errors).toBeUndefined();
    expect((await graphql(platform.gatewayUrl, UPDATE, { token, variables: { input: { memberLimit: 1 } } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
