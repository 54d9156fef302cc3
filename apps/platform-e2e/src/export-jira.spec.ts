import { randomUUID } from 'node:crypto';
import { eventually, graphql, graphqlData } from '@multipult/testing';
import { Account, createTenantFor, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

const ITEM_FIELDS = 'documentId status jiraIssueKey jiraStatus error';

interface ExportView {
  id: string;
  status: string;
  progressMessage: string;
  itemCount: number;
  items: { edges: { node: { documentId: string; status: string; jiraIssueKey: string | null; jiraStatus: string | null; error: string | null } }[] };
}

/** Export to JIRA through the gateway, against the local fake JIRA Cloud of the default platform. */
describe('export to JIRA through the gateway', () => {
  let platform: PlatformOf<'default'>;
  let admin: Account & { token: string; tenantId: string };

  const as = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token: admin.token, variables });

  async function connection(options: { exportComments?: boolean } = {}): Promise<{ id: string; webhookPath: string; webhookSecret: string; email: string }> {
    const email = `jira-${randomUUID()}@example.com`;
    const apiToken = `token-${randomUUID()}`;
    platform.jira.addAccount({ email, apiToken, displayName: 'Export Bot' });
    const created = await as<{ createJiraConnection: { connection: { id: string }; webhookPath: string; webhookSecret: string } }>(
      `mutation($input: CreateJiraConnectionInput!) { createJiraConnection(input: $input) { connection { id } webhookPath webhookSecret } }`,
      { input: { name: `Site ${randomUUID().slice(0, 6)}`, baseUrl: platform.jira.url, accountEmail: email, apiToken, projectKey: 'MP', issueTypeName: 'Task', ...options } },
    );
    return { id: created.createJiraConnection.connection.id, webhookPath: created.createJiraConnection.webhookPath, webhookSecret: created.createJiraConnection.webhookSecret, email };
  }

  async function documents(prefix: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, count - index) }, (_, offset) =>
          as<{ createDocument: { document: { id: string } } }>(`mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`, {
            input: { title: `${prefix} ${String(index + offset).padStart(3, '0')}`, body: `**${prefix}** body ${index + offset}`, type: 'ARTICLE', language: 'en' },
          }),
        ),
      );
      ids.push(...batch.map((created) => created.createDocument.document.id));
    }
    return ids;
  }

  async function exportToJira(connectionId: string, documentIds: string[]): Promise<ExportView> {
    const requested = await as<{ requestExport: { export: { id: string } } }>(
      `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`,
      { input: { format: 'JIRA', jiraConnectionId: connectionId, selection: { documentIds } } },
    );
    return eventually(
      'the JIRA export finished',
      async () => {
        const { export: found } = await as<{ export: ExportView }>(
          `query($id: ID!) { export(id: $id) { id status progressMessage itemCount items(first: 100) { edges { node { ${ITEM_FIELDS} } } } } }`,
          { id: requested.requestExport.export.id },
        );
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(found.status) ? found : undefined;
      },
      90_000,
    );
  }

  const issuesOf = (email: string) => [...platform.jira.issues.values()].filter((issue) => issue.createdBy === email);
  const bulkSizesOf = (email: string) =>
    platform.jira.requests
      .filter((request) => request.account === email && request.method === 'POST' && request.path === '/rest/api/3/issue/bulk' && request.status < 300)
      .map((request) => (request.body as { issueUpdates: unknown[] }).issueUpdates.length);

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'jira-admin');
    const { tenantId, accessToken } = await createTenantFor(platform.gatewayUrl, account);
    admin = { ...account, token: accessToken, tenantId };
  });

  it('exports 120 documents as 50 + 50 + 20 bulk requests, retrying the one entry JIRA refused alone', async () => {
    const site = await connection();
    const tested = await as<{ testJiraConnection: { account: { emailAddress: string } | null } }>(
      `mutation($input: JiraConnectionIdInput!) { testJiraConnection(input: $input) { account { emailAddress } } }`,
      { input: { id: site.id } },
    );
    expect(tested.testJiraConnection.account?.emailAddress).toBe(site.email);
    const ids = await documents('Backlog', 120);
    platform.jira.rejectSummaries(/^Backlog 077$/, 1);

    const done = await exportToJira(site.id, ids);
    expect(done).toMatchObject({ status: 'SUCCEEDED', itemCount: 120 });
    expect(bulkSizesOf(site.email)).toEqual([50, 50, 1, 20]);
    const issues = issuesOf(site.email);
    expect(issues).toHaveLength(120);
    expect(new Set(issues.map((issue) => issue.fields.summary)).size).toBe(120);
    // Descriptions arrive in Atlassian Document Format.
    expect(issues[0].fields.description).toMatchObject({ type: 'doc', version: 1 });
  });

  it('rides out a 429 storm: slower, nothing lost, nothing doubled', async () => {
    const site = await connection();
    const ids = await documents('Storm', 60);
    platform.jira.rateLimitStorm(2_000);
    const started = Date.now();
    const done = await exportToJira(site.id, ids);
    expect(done.status).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(platform.jira.requests.some((request) => request.account === site.email && request.status === 429)).toBe(true);
    const issues = issuesOf(site.email);
    expect(issues).toHaveLength(60);
    expect(new Set(issues.map((issue) => issue.fields.summary)).size).toBe(60);
  });

  it('records status changes from signed webhooks through the gateway, and refuses forged or replayed ones', async () => {
    const site = await connection();
    const [documentId] = await documents('Tracked', 1);
    const done = await exportToJira(site.id, [documentId]);
    const issueKey = done.items.edges[0].node.jiraIssueKey as string;
    const url = new URL(site.webhookPath, platform.gateway.url).toString();
    const status = async () =>
      (await as<{ export: ExportView }>(`query($id: ID!) { export(id: $id) { items(first: 1) { edges { node { ${ITEM_FIELDS} } } } } }`, { id: done.id })).export.items.edges[0].node.jiraStatus;

    const forged = await platform.jira.sendWebhook(url, { secret: 'not-the-secret', identifier: randomUUID(), event: { issueKey, status: 'Done', previousStatus: 'To Do' } });
    expect(forged.status).toBe(401);
    expect(await status()).not.toBe('Done');

    const identifier = randomUUID();
    const accepted = await platform.jira.sendWebhook(url, { secret: site.webhookSecret, identifier, event: { issueKey, status: 'In Progress', previousStatus: 'To Do' } });
    expect(accepted.status).toBe(200);
    await eventually('the status recorded', async () => (await status()) === 'In Progress' || undefined, 15_000);

    // The same delivery again, even carrying another status, changes nothing.
    const replayed = await platform.jira.sendWebhook(url, { secret: site.webhookSecret, identifier, event: { issueKey, status: 'Done', previousStatus: 'In Progress' } });
    expect(replayed.status).toBe(200);
    expect(JSON.parse(replayed.body)).toMatchObject({ duplicate: true });
    expect(await status()).toBe('In Progress');
  });

  it('exports comments as sub-tasks of the issue of their document, named by their authors', async () => {
    const site = await connection({ exportComments: true });
    const [documentId] = await documents('Discussed', 1);
    for (const body of ['First thought', 'A reply to it']) {
      await as(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, { input: { documentId, body } });
    }
    const done = await exportToJira(site.id, [documentId]);
    expect(done.status).toBe('SUCCEEDED');
    const parentKey = done.items.edges[0].node.jiraIssueKey;
    const subTasks = issuesOf(site.email).filter((issue) => (issue.fields.parent as { key?: string } | undefined)?.key === parentKey);
    expect(subTasks.map((issue) => issue.fields.summary)).toEqual(['Comment by jira-admin', 'Comment by jira-admin']);
    expect(JSON.stringify(subTasks.map((issue) => issue.fields.description))).toContain('First thought');
  });

  it('needs jira:connections for connections, and refuses a JIRA export without one', async () => {
    const member = await registerAccount(platform.gatewayUrl, 'jira-member');
    await graphqlData(platform.gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { role { name } } } }`, {
      token: admin.token,
      variables: { input: { email: member.email, role: 'member' } },
    });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(platform.gatewayUrl, `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`, {
      token: member.accessToken,
      variables: { input: { tenantId: admin.tenantId } },
    });
    const listed = await graphql(platform.gatewayUrl, `{ jiraConnections { id } }`, { token: switched.switchTenant.accessToken });
    expect(listed.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const [documentId] = await documents('Unrouted', 1);
    const missing = await graphql(platform.gatewayUrl, `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`, {
      token: admin.token,
      variables: { input: { format: 'JIRA', jiraConnectionId: randomUUID(), selection: { documentIds: [documentId] } } },
    });
    expect(missing.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
  });
});
