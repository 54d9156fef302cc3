import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { Account, PASSWORD, createTenantFor, registerAccount } from './support/accounts';
import { grantPlatformRole, signIn } from './support/admin';
import { download } from './support/downloads';
import { usePlatform } from './support/platforms';
import { nextClockSecond } from './support/clock';

const EXPORT = `mutation { exportMyData { id status } }`;
const MY_EXPORT = `query($input: DataExportInput!) { myDataExport(input: $input) { id status missingServices url expiresAt } }`;
const DELETE_ME = `mutation($input: DeleteMyAccountInput!) { deleteMyAccount(input: $input) { id userId status pendingServices } }`;
const ERASURE = `query($input: AccountErasureInput!) { accountErasure(input: $input) { status confirmedServices pendingServices completedAt } }`;
const ERASED_USER_ID = '00000000-0000-0000-0000-000000000000';

interface ExportView {
  status: string;
  missingServices: string[];
  url: string | null;
  expiresAt: string | null;
}

interface ExportDocument {
  format: string;
  exportId: string;
  userId: string;
  missingServices: string[];
  services: Record<string, Record<string, unknown>>;
}

/** The export's document, fetched through its link as a browser would (no access token). */
async function downloadDocument(platform: Platform, view: ExportView): Promise<ExportDocument> {
  expect(view.url).toMatch(/^\/files\/auth\/data-export\/data-export-[\w-]+\.json\?token=/);
  const file = await download(platform, view.url as string);
  expect(file.status).toBe(200);
  expect(file.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="?data-export-[\w-]+\.json"?$/);
  expect(file.headers.get('cache-control')).toBe('no-store');
  return JSON.parse(file.body) as ExportDocument;
}

/** A tenant member with something in every service: a published and a draft document, a comment, a like, a bookmark, a collection, a preference. */
async function userWithData(platform: Platform, token: string) {
  const call = <T>(query: string, variables?: Record<string, unknown>) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });
  const create = (title: string) =>
    call<{ createDocument: { document: { id: string } } }>(`mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`, {
      input: { title, body: `${title} body`, type: 'ARTICLE', language: 'en' },
    }).then((data) => data.createDocument.document.id);
  const published = await create(`Published ${randomUUID().slice(0, 6)}`);
  const draft = await create(`Draft ${randomUUID().slice(0, 6)}`);
  await call(`mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, { input: { id: published } });
  await call(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, { input: { documentId: published, body: 'My own remark' } });
  await call(`mutation($input: DocumentIdInput!) { likeDocument(input: $input) { changed } }`, { input: { id: published } });
  await call(`mutation($input: DocumentIdInput!) { bookmarkDocument(input: $input) { changed } }`, { input: { id: published } });
  await call(`mutation($input: CreateCollectionInput!) { createCollection(input: $input) { collection { id } } }`, { input: { title: 'My reading list' } });
  await call(`mutation { setNotificationPreference(input: { type: "mention", channel: EMAIL, enabled: false }) { __typename } }`);
  const agent = await call<{ createAgent: { agent: { id: string } } }>(`mutation { createAgent(input: { name: "Diary keeper" }) { agent { id } } }`);
  const agentId = agent.createAgent.agent.id;
  await call(`mutation($input: RememberInput!) { rememberForAgent(input: $input) { id } }`, { input: { agentId, content: 'Prefers short answers', metadata: { topic: 'style' } } });
  await call(`mutation($input: CreateChatSessionInput!) { createChatSession(input: $input) { session { id } } }`, { input: { title: 'Private chat', agentId } });
  return { published, draft, agentId };
}

async function withDatabase<T>(platform: Platform, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('GDPR: data export and account erasure across services', () => {
  let platform: Platform;
  let ops: Account & { token: string };

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'privacy-ops');
    await grantPlatformRole(platform, account.email, 'platform_admin');
    ops = { ...account, token: await signIn(platform, account.email) };
  });

  it("exports every service's part of the caller's data as one document", async () => {
    const account = await registerAccount(platform.gatewayUrl, 'exporter');
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    const { published } = await userWithData(platform, tenant.accessToken);

    const started = await graphqlData<{ exportMyData: { id: string; status: string; url: string | null } }>(platform.gatewayUrl, `mutation { exportMyData { id status url } }`, {
      token: tenant.accessToken,
    });
    expect(started.exportMyData).toMatchObject({ status: 'PENDING', url: null });
    const ready = await eventually('the export to be assembled', async () => {
      const view = (await graphqlData<{ myDataExport: ExportView }>(platform.gatewayUrl, MY_EXPORT, {
        token: tenant.accessToken,
        variables: { input: { exportId: started.exportMyData.id } },
      })).myDataExport;
      return view.status === 'READY' ? view : undefined;
    });
    expect(new Date(ready.expiresAt as string).getTime()).toBeGreaterThan(Date.now());
    const document = await downloadDocument(platform, ready);
    const { services } = document;
    expect(document).toMatchObject({ format: 'multipult-export/1', exportId: started.exportMyData.id, userId: account.userId, missingServices: [] });
    expect(services.auth.profile).toMatchObject({ id: account.userId, email: account.email });
    expect(services.auth.memberships).toEqual([expect.objectContaining({ tenantId: tenant.tenantId, role: 'admin' })]);
    expect((services.content.documents as { id: string }[]).map((document) => document.id)).toContain(published);
    expect(services.content.comments).toEqual([expect.objectContaining({ bodyMarkdown: 'My own remark' })]);
    expect(services.content.likes).toHaveLength(1);
    expect(services.content.collections).toEqual([expect.objectContaining({ title: 'My reading list' })]);
    expect(services.notifications.profile).toMatchObject({ email: account.email });
    expect(services.notifications.preferences).toEqual([{ type: 'mention', channel: 'EMAIL', enabled: false }]);
    expect(services.agents.agents).toEqual([expect.objectContaining({ name: 'Diary keeper' })]);
    expect(services.agents.memories).toEqual([expect.objectContaining({ content: 'Prefers short answers', metadata: { topic: 'style' } })]);
    expect(services.agents.chatSessions).toEqual([expect.objectContaining({ title: 'Private chat', messages: [] })]);

    const foreign = await graphql(platform.gatewayUrl, MY_EXPORT, { token: ops.token, variables: { input: { exportId: started.exportMyData.id } } });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const listed = await graphqlData<{ myDataExports: ExportView[] }>(platform.gatewayUrl, '{ myDataExports { status url } }', { token: tenant.accessToken });
    expect(listed.myDataExports).toEqual([{ status: 'READY', url: expect.stringMatching(/^\/files\/auth\/data-export\//) }]);
    expect(await downloadDocument(platform, listed.myDataExports[0])).toEqual(document);
  });

  it('erases the account in every service, keeping what the tenant owns anonymized; a repeated request changes nothing', async () => {
    const leaving = await registerAccount(platform.gatewayUrl, 'leaving');
    const tenant = await createTenantFor(platform.gatewayUrl, leaving);
    const { published, draft } = await userWithData(platform, tenant.accessToken);
    const colleague = await registerAccount(platform.gatewayUrl, 'colleague');
    const addAs = (role: string) =>
      graphqlData(platform.gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { role { name } } } }`, {
        token: tenant.accessToken,
        variables: { input: { email: colleague.email, role } },
      });
    await addAs('member');
    // Sent outbox rows about the user (their actions in content, auth's events about them), kept for retention until the erasure.
    const SENT_ABOUT_USER = `SELECT count(*)::int FROM %s.outbox WHERE published_at IS NOT NULL
      AND event_type NOT IN ('user.erasure_requested', 'user.erasure_completed', 'user.data_export_requested')
      AND (envelope->'payload'->>'userId' = $1 OR envelope->>'actorId' = $1)`;
    const sentAboutUser = (schema: string) =>
      withDatabase(platform, async (client) => (await client.query(SENT_ABOUT_USER.replace('%s', schema), [leaving.userId])).rows[0].count as number);
    await eventually('the user\'s events to be sent', async () => (await sentAboutUser('auth')) > 0 && (await sentAboutUser('content')) > 0);

    const wrong = await graphql(platform.gatewayUrl, DELETE_ME, { token: tenant.accessToken, variables: { input: { password: 'not my password 1' } } });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'password' })] });
    const soleAdmin = await graphql(platform.gatewayUrl, DELETE_ME, { token: tenant.accessToken, variables: { input: { password: PASSWORD } } });
    expect(soleAdmin.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    await graphqlData(platform.gatewayUrl, `mutation($input: ChangeTenantMemberRoleInput!) { changeTenantMemberRole(input: $input) { membership { role { name } } } }`, {
      token: tenant.accessToken,
      variables: { input: { userId: colleague.userId, role: 'admin' } },
    });

    const erasure = (await graphqlData<{ deleteMyAccount: { id: string; userId: string; status: string; pendingServices: string[] } }>(
      platform.gatewayUrl,
      DELETE_ME,
      { token: tenant.accessToken, variables: { input: { password: PASSWORD } } },
    )).deleteMyAccount;
    expect(erasure).toMatchObject({ userId: leaving.userId, status: 'PENDING', pendingServices: ['content', 'notifications', 'agents'] });
    expect((await graphql(platform.gatewayUrl, '{ me { id } }', { token: tenant.accessToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const login = await graphql(platform.gatewayUrl, `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`, {
      variables: { input: { email: leaving.email, password: PASSWORD } },
    });
    expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const completed = await eventually('every service to confirm the erasure', async () => {
      const view = (await graphqlData<{ accountErasure: { status: string; confirmedServices: string[]; completedAt: string } }>(platform.gatewayUrl, ERASURE, {
        token: ops.token,
        variables: { input: { erasureId: erasure.id } },
      })).accountErasure;
      return view.status === 'COMPLETED' ? view : undefined;
    });
    expect(completed.confirmedServices).toEqual(['content', 'notifications', 'agents']);

    const userId = leaving.userId;
    const remaining = await withDatabase(platform, async (client) => {
      const count = async (sql: string, params: unknown[] = [userId]) => (await client.query(sql, params)).rows[0].count as number;
      return {
        authUsers: await count('SELECT count(*)::int FROM auth.users WHERE id = $1'),
        authSessions: await count('SELECT count(*)::int FROM auth.sessions WHERE user_id = $1'),
        authMemberships: await count('SELECT count(*)::int FROM auth.memberships WHERE user_id = $1'),
        contentDocuments: await count('SELECT count(*)::int FROM content.documents WHERE owner_id = $1'),
        contentDraft: await count('SELECT count(*)::int FROM content.documents WHERE id = $1', [draft]),
        contentComments: await count('SELECT count(*)::int FROM content.comments WHERE author_id = $1'),
        contentLikes: await count('SELECT count(*)::int FROM content.document_likes WHERE user_id = $1'),
        contentBookmarks: await count('SELECT count(*)::int FROM content.document_bookmarks WHERE user_id = $1'),
        contentCollections: await count('SELECT count(*)::int FROM content.collections WHERE owner_id = $1'),
        contentVersions: await count('SELECT count(*)::int FROM content.document_versions WHERE changed_by = $1'),
        contentDirectory: await count('SELECT count(*)::int FROM content.user_directory WHERE user_id = $1'),
        notificationsRecipients: await count('SELECT count(*)::int FROM notifications.recipients WHERE user_id = $1'),
        notificationsInbox: await count('SELECT count(*)::int FROM notifications.notifications WHERE recipient_id = $1'),
        notificationsPreferences: await count('SELECT count(*)::int FROM notifications.preferences WHERE user_id = $1'),
        notificationsEmails: await count('SELECT count(*)::int FROM notifications.email_deliveries WHERE user_id = $1 OR to_address = $2', [userId, leaving.email]),
        notificationsMemberships: await count('SELECT count(*)::int FROM notifications.tenant_members WHERE user_id = $1'),
        agents: await count('SELECT count(*)::int FROM agents.agents WHERE owner_id = $1'),
        agentMemories: await count('SELECT count(*)::int FROM agents.agent_memories WHERE user_id = $1'),
        agentChatSessions: await count('SELECT count(*)::int FROM agents.agent_chat_sessions WHERE user_id = $1'),
        agentRuns: await count('SELECT count(*)::int FROM agents.agent_runs WHERE user_id = $1'),
      };
    });
    expect(Object.entries(remaining).filter(([, count]) => count !== 0)).toEqual([]);
    expect({ auth: await sentAboutUser('auth'), content: await sentAboutUser('content'), notifications: await sentAboutUser('notifications') }).toEqual({
      auth: 0,
      content: 0,
      notifications: 0,
    });

    // What the tenant keeps stays readable, by the erased-user placeholder (the promotion cut the colleague's old tokens).
    await nextClockSecond();
    const colleagueToken = (await graphqlData<{ switchTenant: { accessToken: string } }>(platform.gatewayUrl, `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`, {
      token: await signIn(platform, colleague.email),
      variables: { input: { tenantId: tenant.tenantId } },
    })).switchTenant.accessToken;
    const kept = await graphqlData<{ document: { owner: { id: string; displayName: string }; likeCount: number } }>(
      platform.gatewayUrl,
      `query($id: ID!) { document(id: $id) { owner { id displayName } likeCount } }`,
      { token: colleagueToken, variables: { id: published } },
    );
    expect(kept.document).toEqual({ owner: { id: ERASED_USER_ID, displayName: 'Deleted user' }, likeCount: 0 });

    // The same saga asked again (a redelivered request under a new event id): nothing more to erase, and auth keeps its record.
    const replayId = randomUUID();
    await withDatabase(platform, (client) =>
      client.query(
        `INSERT INTO auth.outbox (id, topic, message_key, event_type, envelope, headers)
         SELECT $2::uuid, topic, message_key, event_type, jsonb_set(envelope, '{id}', to_jsonb($3::text)), headers
         FROM auth.outbox WHERE event_type = 'user.erasure_requested' AND envelope->'payload'->>'erasureId' = $1`,
        [erasure.id, replayId, replayId],
      ),
    );
    await eventually('both services to handle the repeated request', () =>
      withDatabase(platform, async (client) => {
        const { rows } = await client.query(
          `SELECT (SELECT count(*)::int FROM content.inbox WHERE event_id = $1) + (SELECT count(*)::int FROM notifications.inbox WHERE event_id = $1) AS handled`,
          [replayId],
        );
        return rows[0].handled === 2;
      }),
    );
    const after = (await graphqlData<{ accountErasure: { status: string; completedAt: string } }>(platform.gatewayUrl, ERASURE, {
      token: ops.token,
      variables: { input: { erasureId: erasure.id } },
    })).accountErasure;
    expect(after).toMatchObject({ status: 'COMPLETED', completedAt: completed.completedAt });
    const audit = await graphqlData<{ auditLog: { edges: { node: { action: string } }[] } }>(
      platform.gatewayUrl,
      `query($filter: AuditLogFilter) { auditLog(filter: $filter) { edges { node { action } } } }`,
      { token: ops.token, variables: { filter: { targetId: userId, action: 'account.' } } },
    );
    expect(audit.auditLog.edges.map((edge) => edge.node.action)).toEqual(['account.erased', 'account.erasure_requested']);
  });

  it('lets platform admins erase others, never themselves', async () => {
    const self = await graphql(platform.gatewayUrl, `mutation($input: UserIdInput!) { deleteUserPermanently(input: $input) { id } }`, {
      token: ops.token,
      variables: { input: { userId: ops.userId } },
    });
    expect(self.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await graphql(platform.gatewayUrl, `mutation($input: UserIdInput!) { deleteUserPermanently(input: $input) { id } }`, {
      token: ops.token,
      variables: { input: { userId: randomUUID() } },
    });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const someone = await registerAccount(platform.gatewayUrl, 'someone');
    const refused = await graphql(platform.gatewayUrl, `mutation($input: UserIdInput!) { deleteUserPermanently(input: $input) { id } }`, {
      token: someone.accessToken,
      variables: { input: { userId: ops.userId } },
    });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('GDPR: a participant that does not answer', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('silent-privacy-participant');
  });

  it('assembles a partial export and reports an overdue erasure naming the missing service', async () => {
    const ops = await registerAccount(platform.gatewayUrl, 'ops');
    await grantPlatformRole(platform, ops.email, 'platform_admin');
    const opsToken = await signIn(platform, ops.email);
    const user = await registerAccount(platform.gatewayUrl, 'partial');

    const started = await graphqlData<{ exportMyData: { id: string } }>(platform.gatewayUrl, EXPORT, { token: user.accessToken });
    const partial = await eventually('the export to time out', async () => {
      const view = (await graphqlData<{ myDataExport: ExportView }>(platform.gatewayUrl, MY_EXPORT, {
        token: user.accessToken,
        variables: { input: { exportId: started.exportMyData.id } },
      })).myDataExport;
      return view.status === 'PARTIAL' ? view : undefined;
    });
    expect(partial.missingServices).toEqual(['billing']);
    const document = await downloadDocument(platform, partial);
    expect(document.missingServices).toEqual(['billing']);
    expect(Object.keys(document.services).sort()).toEqual(['auth', 'content', 'notifications']);

    const erasure = await graphqlData<{ deleteUserPermanently: { id: string } }>(platform.gatewayUrl, `mutation($input: UserIdInput!) { deleteUserPermanently(input: $input) { id } }`, {
      token: opsToken,
      variables: { input: { userId: user.userId } },
    });
    const overdue = await eventually('the erasure to be reported overdue', async () => {
      const view = (await graphqlData<{ accountErasure: { status: string; confirmedServices: string[]; pendingServices: string[] } }>(platform.gatewayUrl, ERASURE, {
        token: opsToken,
        variables: { input: { erasureId: erasure.deleteUserPermanently.id } },
      })).accountErasure;
      return view.status === 'OVERDUE' && view.confirmedServices.length === 2 ? view : undefined;
    });
    expect(overdue).toEqual({ status: 'OVERDUE', confirmedServices: ['content', 'notifications'], pendingServices: ['billing'], completedAt: null });
    expect((await graphql(platform.gatewayUrl, '{ me { id } }', { token: user.accessToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
