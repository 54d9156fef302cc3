import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { Account, addTenantMember, createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';
import { nextClockSecond } from './support/clock';

const REMOVE = `mutation($input: TenantMemberInput!) { removeTenantMember(input: $input) { removedUserId } }`;
const CHANGE_ROLE = `mutation($input: ChangeTenantMemberRoleInput!) { changeTenantMemberRole(input: $input) { membership { role { name } } } }`;
const SWITCH = `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`;

describe('tenant members: roles and removal', () => {
  let platform: Platform;
  let admin: Account & { token: string; tenantId: string };

  const asAdmin = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: admin.token, variables });
  /** Past the second an access token was issued in, so a cut-off of "now" is after it. */

  const addMember = (name: string, role = 'member') => addTenantMember(platform.gatewayUrl, admin, name, role);

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'owner');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    admin = { ...account, token: tenant.accessToken, tenantId: tenant.tenantId };
  });

  it('never removes or demotes the last admin', async () => {
    for (const [query, input] of [
      [CHANGE_ROLE, { userId: admin.userId, role: 'member' }],
      [REMOVE, { userId: admin.userId }],
    ] as const) {
      const refused = await asAdmin(query, { input });
      expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    }
  });

  it("changes a member's role, effective at once: old tokens stop, a refresh carries the new permissions", async () => {
    const member = await addMember('promoted');
    const members = '{ tenantMembers { totalCount } }';
    expect((await graphql(platform.gatewayUrl, members, { token: member.token })).errors).toBeUndefined();
    await nextClockSecond();

    const changed = await asAdmin(CHANGE_ROLE, { input: { userId: member.userId, role: 'admin' } });
    expect(changed.data).toEqual({ changeTenantMemberRole: { membership: { role: { name: 'admin' } } } });
    const stale = await graphql(platform.gatewayUrl, members, { token: member.token });
    expect(stale.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    await nextClockSecond();
    const refreshed = await graphqlData<{ refreshTokens: { accessToken: string } }>(platform.gatewayUrl, REFRESH, {
      variables: { input: { refreshToken: member.refreshToken } },
    });
    const invite = await graphql(platform.gatewayUrl, `mutation($input: InviteTenantMemberInput!) { inviteTenantMember(input: $input) { invitation { id } } }`, {
      token: refreshed.refreshTokens.accessToken,
      variables: { input: { email: 'someone@example.com', role: 'viewer' } },
    });
    expect(invite.errors).toBeUndefined();
  });

  it('removes a member, who loses access at once, and tells the other services', async () => {
    const before = await graphqlData<{ tenantMembers: { totalCount: number } }>(platform.gatewayUrl, '{ tenantMembers { totalCount } }', { token: admin.token });
    const member = await addMember('leaving');
    await nextClockSecond();
    const removed = await asAdmin(REMOVE, { input: { userId: member.userId } });
    expect(removed.data).toEqual({ removeTenantMember: { removedUserId: member.userId } });
    expect((await graphql(platform.gatewayUrl, '{ tenantMembers { totalCount } }', { token: member.token })).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    await nextClockSecond();
    const refreshed = await graphqlData<{ refreshTokens: { accessToken: string } }>(platform.gatewayUrl, REFRESH, {
      variables: { input: { refreshToken: member.refreshToken } },
    });
    const switched = await graphql(platform.gatewayUrl, SWITCH, { token: refreshed.refreshTokens.accessToken, variables: { input: { tenantId: admin.tenantId } } });
    expect(switched.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Notifications no longer counts them in the tenant: an announcement reaches the remaining members only.
    await eventually('the removal to reach notifications', async () => {
      const published = await asAdmin(`mutation { publishAnnouncement(input: { title: "Hi", body: "All" }) { announcement { recipientCount } } }`);
      const { recipientCount } = (published.data as { publishAnnouncement: { announcement: { recipientCount: number } } }).publishAnnouncement.announcement;
      return recipientCount === before.tenantMembers.totalCount;
    });
    expect((await asAdmin(REMOVE, { input: { userId: member.userId } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('audits every tenant administration action, visible to the tenant admin only', async () => {
    const member = await addMember('audited', 'viewer');
    await asAdmin(CHANGE_ROLE, { input: { userId: member.userId, role: 'member' } });
    await asAdmin(REMOVE, { input: { userId: member.userId } });
    const log = await graphqlData<{ tenantAuditLog: { edges: { node: { action: string; actorId: string; targetId: string; tenantId: string; details: Record<string, unknown> } }[] } }>(
      platform.gatewayUrl,
      `query($filter: AuditLogFilter) { tenantAuditLog(filter: $filter) { edges { node { action actorId targetId tenantId details } } } }`,
      { token: admin.token, variables: { filter: { targetId: member.userId } } },
    );
    expect(log.tenantAuditLog.edges.map((edge) => edge.node)).toEqual([
      { action: 'tenant.member_removed', actorId: admin.userId, targetId: member.userId, tenantId: admin.tenantId, details: { role: 'member' } },
      { action: 'tenant.member_role_changed', actorId: admin.userId, targetId: member.userId, tenantId: admin.tenantId, details: { from: 'viewer', to: 'member' } },
      { action: 'tenant.member_added', actorId: admin.userId, targetId: member.userId, tenantId: admin.tenantId, details: { role: 'viewer' } },
    ]);
    const refused = await graphql(platform.gatewayUrl, '{ tenantAuditLog { totalCount } }', { token: member.token });
    expect(refused.errors?.[0]?.extensions?.code).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
  });
});
