import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DEVELOPMENT_FILE_LINK_SECRET } from '@multipult/files';
import { Platform, eventually, graphql, graphqlData, startPlatform } from '@multipult/testing';
import { Account, PASSWORD, createTenantFor, registerAccount } from './support/accounts';
import { grantPlatformRole, signIn } from './support/admin';
import { download, expiredCopyOf, tamperedCopyOf } from './support/downloads';

const USERS = `query($filter: UsersFilter, $first: Int, $after: String) {
  adminUsers(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id email displayName emailVerified active bannedAt banReason platformRoles } }
  }
}`;
const BAN = `mutation($input: BanUserInput!) { banUser(input: $input) { user { id bannedAt banReason } } }`;
const UNBAN = `mutation($input: UserIdInput!) { unbanUser(input: $input) { user { id bannedAt } } }`;
const ASSIGN = `mutation($input: BulkRoleInput!) { bulkAssignRole(input: $input) { changedCount unknownUserIds } }`;
const REMOVE = `mutation($input: BulkRoleInput!) { bulkRemoveRole(input: $input) { changedCount unknownUserIds } }`;
const STATS = `{ systemStats { usersTotal usersActive usersVerified usersNewLast30Days usersBanned activeSessions
  platformRoleDistribution { role count } tenantRoleDistribution { role count } } }`;
const AUDIT = `query($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id occurredAt actorId action outcome targetType targetId tenantId ip requestId details } }
  }
}`;
const EXPORT_AUDIT = `query($filter: AuditLogFilter) { exportAuditLog(filter: $filter) { url expiresAt rowCount truncated } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const REFRESH = `mutation($input: RefreshTokensInput!) { refreshTokens(input: $input) { accessToken } }`;

interface AuditExport {
  url: string;
  expiresAt: string;
  rowCount: number;
  truncated: boolean;
}

interface AuditNode {
  actorId: string | null;
  action: string;
  outcome: string;
  targetId: string | null;
  tenantId: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

describe('platform admin API and audit log', () => {
  let platform: Platform;
  let ops: Account;
  let opsToken: string;
  const marker = randomUUID().slice(0, 8);

  const asOps = <T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    graphql<T>(platform.gatewayUrl, query, { token: opsToken, variables, headers });
  const audit = async (filter: Record<string, unknown>) =>
    (await graphqlData<{ auditLog: { edges: { node: AuditNode }[] } }>(platform.gatewayUrl, AUDIT, { token: opsToken, variables: { filter } })).auditLog.edges.map(
      (edge) => edge.node,
    );

  beforeAll(async () => {
    platform = await startPlatform();
    ops = await registerAccount(platform.gatewayUrl, `ops-${marker}`);
    await grantPlatformRole(platform, ops.email, 'platform_admin');
    opsToken = await signIn(platform, ops.email);
  });

  afterAll(() => platform?.stop());

  it('is refused to users without a platform role, and tokens from before the grant lack it', async () => {
    const someone = await registerAccount(platform.gatewayUrl, 'someone');
    for (const token of [someone.accessToken, ops.accessToken]) {
      const refused = await graphql(platform.gatewayUrl, STATS, { token });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('lists users with filters and cursor pagination, at most 100 per page', async () => {
    const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((name) => `${name}-${marker}`);
    const accounts = [];
    for (const name of names) accounts.push(await registerAccount(platform.gatewayUrl, name));

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { adminUsers: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { displayName: string } }[] } } =
        await graphqlData(platform.gatewayUrl, USERS, { token: opsToken, variables: { filter: { search: marker }, first: 2, after } });
      expect(page.adminUsers.totalCount).toBe(6);
      seen.push(...page.adminUsers.edges.map((edge) => edge.node.displayName));
      after = page.adminUsers.pageInfo.hasNextPage ? page.adminUsers.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual([...names].reverse().concat(`ops-${marker}`));

    const admins = await graphqlData<{ adminUsers: { edges: { node: { email: string; platformRoles: string[] } }[] } }>(platform.gatewayUrl, USERS, {
      token: opsToken,
      variables: { filter: { role: 'PLATFORM_ADMIN' } },
    });
    expect(admins.adminUsers.edges.map((edge) => edge.node)).toEqual([expect.objectContaining({ email: ops.email, platformRoles: ['PLATFORM_ADMIN'] })]);

    const unverified = await graphqlData<{ adminUsers: { totalCount: number } }>(platform.gatewayUrl, USERS, {
      token: opsToken,
      variables: { filter: { search: marker, verified: false, active: true, banned: false } },
    });
    expect(unverified.adminUsers.totalCount).toBe(6);
    const verified = await graphqlData<{ adminUsers: { totalCount: number } }>(platform.gatewayUrl, USERS, {
      token: opsToken,
      variables: { filter: { search: marker, verified: true } },
    });
    expect(verified.adminUsers.totalCount).toBe(0);
    const wildcard = await graphqlData<{ adminUsers: { totalCount: number } }>(platform.gatewayUrl, USERS, { token: opsToken, variables: { filter: { search: '%' } } });
    expect(wildcard.adminUsers.totalCount).toBe(0);

    const tooMany = await asOps(USERS, { first: 101 });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await asOps(USERS, { after: 'garbage' });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages through users created within one millisecond without repeating or skipping any', async () => {
    const tag = `same-ms-${randomUUID().slice(0, 6)}`;
    const created = [];
    for (let index = 0; index < 5; index += 1) created.push(await registerAccount(platform.gatewayUrl, `${tag}-${index}`));
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      // Microseconds apart, within one millisecond: what a busy sign-up minute produces.
      await client.query(
        `UPDATE auth.users SET created_at = '2026-01-01T00:00:00.123Z'::timestamptz + make_interval(secs => (array_position($1::uuid[], id) * 0.000001))
         WHERE id = ANY($1::uuid[])`,
        [created.map((account) => account.userId)],
      );
    } finally {
      await client.end();
    }
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { adminUsers: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { id: string } }[] } } = await graphqlData(
        platform.gatewayUrl,
        USERS,
        { token: opsToken, variables: { filter: { search: tag }, first: 1, after } },
      );
      seen.push(...page.adminUsers.edges.map((edge) => edge.node.id));
      after = page.adminUsers.pageInfo.hasNextPage ? page.adminUsers.pageInfo.endCursor : null;
    } while (after && seen.length < 10);
    expect([...seen].sort()).toEqual(created.map((account) => account.userId).sort());
  });

  it('bans a user: their issued access token is refused within a second, sign-in and refresh too, until unbanned', async () => {
    const target = await registerAccount(platform.gatewayUrl, 'banned');
    expect((await graphql(platform.gatewayUrl, '{ me { id } }', { token: target.accessToken })).errors).toBeUndefined();

    const requestId = `ban-${marker}`;
    const banned = await asOps<{ banUser: { user: { id: string; bannedAt: string; banReason: string } } }>(
      BAN,
      { input: { userId: target.userId, reason: 'spam' } },
      { 'x-request-id': requestId, 'x-forwarded-for': '203.0.113.9' },
    );
    const bannedAt = Date.now();
    expect(banned.data?.banUser.user).toMatchObject({ id: target.userId, banReason: 'spam' });

    const me = await graphql(platform.gatewayUrl, '{ me { id } }', { token: target.accessToken });
    expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(Date.now() - bannedAt).toBeLessThan(1_000);
    const refresh = await graphql(platform.gatewayUrl, REFRESH, { variables: { input: { refreshToken: target.refreshToken } } });
    expect(refresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const login = await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email: target.email, password: PASSWORD } } });
    expect(login.errors?.[0]).toMatchObject({ message: 'This account is suspended; contact support', extensions: { code: 'FORBIDDEN' } });

    const [entry] = await audit({ action: 'user.banned', targetId: target.userId });
    expect(entry).toMatchObject({ actorId: ops.userId, outcome: 'SUCCESS', ip: '203.0.113.9', requestId, details: { reason: 'spam', sessionsRevoked: 1 } });

    const unbanned = await asOps<{ unbanUser: { user: { bannedAt: string | null } } }>(UNBAN, { input: { userId: target.userId } });
    expect(unbanned.data?.unbanUser.user.bannedAt).toBeNull();
    expect((await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email: target.email, password: PASSWORD } } })).errors).toBeUndefined();
    expect(await audit({ action: 'user.unbanned', targetId: target.userId })).toHaveLength(1);
    expect(await audit({ action: 'login.refused_banned', targetId: target.userId })).toEqual([expect.objectContaining({ outcome: 'FAILURE', actorId: null })]);
  });

  it('never bans the caller; unknown and malformed ids get typed errors', async () => {
    const self = await asOps(BAN, { input: { userId: ops.userId } });
    expect(self.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await asOps(BAN, { input: { userId: randomUUID() } });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const malformed = await asOps(BAN, { input: { userId: 'nope' } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await graphql(platform.gatewayUrl, '{ me { id } }', { token: opsToken })).errors).toBeUndefined();
  });

  it('assigns and removes platform roles in bulk; removal cuts the permissions at once; the last platform admin stays', async () => {
    const first = await registerAccount(platform.gatewayUrl, 'support-1');
    const second = await registerAccount(platform.gatewayUrl, 'support-2');
    const missing = randomUUID();
    const assigned = await asOps(ASSIGN, { input: { userIds: [first.userId, second.userId, missing], role: 'SUPPORT' } });
    expect(assigned.data).toEqual({ bulkAssignRole: { changedCount: 2, unknownUserIds: [missing] } });

    const supportToken = await signIn(platform, first.email);
    expect((await graphql(platform.gatewayUrl, STATS, { token: supportToken })).errors).toBeUndefined();
    const supportBan = await graphql(platform.gatewayUrl, BAN, { token: supportToken, variables: { input: { userId: second.userId } } });
    expect(supportBan.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const removed = await asOps(REMOVE, { input: { userIds: [first.userId, second.userId], role: 'SUPPORT' } });
    expect(removed.data).toEqual({ bulkRemoveRole: { changedCount: 2, unknownUserIds: [] } });
    expect((await graphql(platform.gatewayUrl, STATS, { token: supportToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const lastAdmin = await asOps(REMOVE, { input: { userIds: [ops.userId], role: 'PLATFORM_ADMIN' } });
    expect(lastAdmin.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const tooMany = await asOps(ASSIGN, { input: { userIds: Array.from({ length: 101 }, () => randomUUID()), role: 'SUPPORT' } });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const entries = await audit({ action: 'platform_role.' });
    expect(entries.filter((entry) => entry.targetId === first.userId).map((entry) => [entry.action, entry.actorId])).toEqual([
      ['platform_role.removed', ops.userId],
      ['platform_role.assigned', ops.userId],
    ]);
    expect(entries.find((entry) => entry.targetId === ops.userId)).toMatchObject({ actorId: null, details: { role: 'platform_admin', via: 'cli' } });
  });

  it('reports system statistics that match the accounts it holds', async () => {
    const stats = await graphqlData<{ systemStats: Record<string, unknown> }>(platform.gatewayUrl, STATS, { token: opsToken });
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE banned_at IS NOT NULL)::int AS banned,
                count(*) FILTER (WHERE created_at > now() - interval '30 days')::int AS recent
         FROM auth.users`,
      );
      // Accounts back-dated by the pagination test are not new.
      expect(rows[0].recent).toBeLessThan(rows[0].total);
      expect(stats.systemStats).toMatchObject({
        usersTotal: rows[0].total,
        usersNewLast30Days: rows[0].recent,
        usersBanned: rows[0].banned,
        usersVerified: 0,
        platformRoleDistribution: [{ role: 'platform_admin', count: 1 }],
      });
      expect(stats.systemStats.usersActive).toBe(rows[0].total - rows[0].banned);
      expect(stats.systemStats.activeSessions).toBeGreaterThanOrEqual(rows[0].total);
    } finally {
      await client.end();
    }
  });

  it('keeps the audit log append-only, filterable, exportable as a CSV download through the gateway, and scoped to the tenant for tenant admins', async () => {
    const owner = await registerAccount(platform.gatewayUrl, 'tenant-owner');
    const tenant = await createTenantFor(platform.gatewayUrl, owner);
    const other = await registerAccount(platform.gatewayUrl, 'other-owner');
    await createTenantFor(platform.gatewayUrl, other);

    const tenantLog = await graphqlData<{ tenantAuditLog: { edges: { node: AuditNode }[] } }>(
      platform.gatewayUrl,
      `{ tenantAuditLog { edges { node { action tenantId actorId } } } }`,
      { token: tenant.accessToken },
    );
    expect(tenantLog.tenantAuditLog.edges.map((edge) => edge.node)).toEqual([{ action: 'tenant.created', tenantId: tenant.tenantId, actorId: owner.userId }]);
    const memberRefused = await graphql(platform.gatewayUrl, AUDIT, { token: tenant.accessToken });
    expect(memberRefused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const exported = (
      await graphqlData<{ exportAuditLog: AuditExport }>(platform.gatewayUrl, EXPORT_AUDIT, { token: opsToken, variables: { filter: { action: 'user.' } } })
    ).exportAuditLog;
    expect(exported.url).toMatch(/^\/files\/auth\/audit-log\/audit-log-[\d-]+\.csv\?token=/);
    expect(new Date(exported.expiresAt).getTime() - Date.now()).toBeGreaterThan(200_000);
    expect(exported.truncated).toBe(false);
    // Banned after the link was made: the file holds what rowCount announced, not this.
    const bannedLater = await registerAccount(platform.gatewayUrl, 'banned-later');
    await asOps(BAN, { input: { userId: bannedLater.userId, reason: 'after the export' } });

    const csv = await download(platform, exported.url);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="?audit-log-[\d-]+\.csv"?$/);
    expect(csv.headers.get('cache-control')).toBe('no-store');
    expect(csv.headers.get('x-content-type-options')).toBe('nosniff');
    expect(csv.headers.get('www-authenticate')).toBeNull();
    // Counted against the caller's IP like /graphql.
    expect(csv.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('id,occurredAt,actorId,action,outcome,targetType,targetId,tenantId,ip,userAgent,requestId,details');
    expect(exported.rowCount).toBeGreaterThanOrEqual(1);
    expect(lines).toHaveLength(exported.rowCount + 1);
    expect(lines.slice(1).every((line) => /^\d+,[^,]+,[^,]*,user\./.test(line))).toBe(true);
    expect(lines.some((line) => line.includes(',user.banned,success,') && line.includes('"{""reason"":""spam""'))).toBe(true);
    expect(csv.body).not.toContain(bannedLater.userId);
    // The link is a credential: both hops log the request, neither the token.
    const token = new URL(exported.url, 'http://gateway').searchParams.get('token') as string;
    await download(platform, exported.url, { headers: { 'x-request-id': `download-${marker}` } });
    await eventually('both hops to log the download', () =>
      [platform.gateway, platform.auth].every((service) => service.output().includes(`download-${marker}`)),
    );
    for (const service of [platform.gateway, platform.auth]) {
      expect(service.output()).toContain('token=[redacted]');
      expect(service.output()).not.toContain(token);
    }
    // A caller's token is neither needed nor looked at: an invalid one changes nothing.
    expect((await download(platform, exported.url, { headers: { authorization: 'Bearer not-a-token' } })).body).toBe(csv.body);

    const tamperedLink = await download(platform, tamperedCopyOf(exported.url));
    expect(tamperedLink.status).toBe(403);
    expect(JSON.parse(tamperedLink.body).errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', requestId: expect.any(String) });
    const expiredLink = await download(platform, await expiredCopyOf(exported.url, DEVELOPMENT_FILE_LINK_SECRET));
    expect(expiredLink.status).toBe(410);
    expect(JSON.parse(expiredLink.body).errors[0].extensions.code).toBe('LINK_EXPIRED');
    expect((await download(platform, exported.url.replace('/files/auth/', '/files/billing/'))).status).toBe(404);
    expect((await download(platform, exported.url, { method: 'POST' })).status).toBe(405);

    const tenantExport = (
      await graphqlData<{ exportTenantAuditLog: AuditExport }>(
        platform.gatewayUrl,
        `query($filter: AuditLogFilter) { exportTenantAuditLog(filter: $filter) { url expiresAt rowCount truncated } }`,
        { token: tenant.accessToken, variables: { filter: { tenantId: randomUUID() } } },
      )
    ).exportTenantAuditLog;
    expect(tenantExport).toMatchObject({ rowCount: 1, truncated: false });
    const tenantCsv = await download(platform, tenantExport.url);
    expect(tenantCsv.status).toBe(200);
    const [, tenantRow, ...more] = tenantCsv.body.trim().split('\n');
    expect(more).toEqual([]);
    expect(tenantRow).toContain(`,tenant.created,success,tenant,${tenant.tenantId},${tenant.tenantId},`);
    const memberExport = await graphql(platform.gatewayUrl, `{ exportAuditLog { url } }`, { token: tenant.accessToken });
    expect(memberExport.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      await expect(client.query(`UPDATE auth.audit_log SET action = 'forged'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM auth.audit_log`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
    const badFilter = await graphql(platform.gatewayUrl, AUDIT, { token: opsToken, variables: { filter: { actorId: 'x', action: 'DROP TABLE' } } });
    expect(badFilter.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
