import { randomUUID } from 'node:crypto';
import { FakeJira, eventually, startFakeJira } from '@multipult/testing';
import { ExportTestApp, startExportTestApp } from '../testing/export-test-app';
import { JiraConnectionsService, jiraWebhookPath } from './jira-connections.service';
import { JiraIssueExporter } from './jira-issue-exporter';

// JIRA's webhooks over HTTP into the listening export app (body parsing as in main.ts), from the fake JIRA.

describe('JiraWebhooksController', () => {
  let app: ExportTestApp;
  let jira: FakeJira;
  const tenantId = randomUUID();
  let connectionId: string;
  let secret: string;
  let issueKey: string;
  let exportItemId: string;
  let documentId: string;

  beforeAll(async () => {
    jira = await startFakeJira();
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token', displayName: 'Export Bot' });
    app = await startExportTestApp('jira_webhooks', { JIRA_ALLOW_PRIVATE_NETWORKS: 'true' }, { listen: true });
    const created = await app.get(JiraConnectionsService).create(tenantId, randomUUID(), {
      name: 'Site',
      baseUrl: jira.url,
      accountEmail: 'bot@example.com',
      apiToken: 'token',
      projectKey: 'MP',
      issueTypeName: 'Task',
    });
    connectionId = created.connection.id;
    secret = created.webhookSecret;
    exportItemId = randomUUID();
    documentId = randomUUID();
    [{ issueKey } = { issueKey: '' }] = (await app
      .get(JiraIssueExporter)
      .exportItems(connectionId, tenantId, [{ exportItemId, documentId, title: 'Watched', summary: 'S', markdown: 'Body' }])) as { issueKey: string }[];
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await jira?.close();
  });

  const hookUrl = (id = connectionId) => `${app.url}${jiraWebhookPath(id)}`;
  const linkStatus = async () => (await app.dataSource.query('SELECT status FROM jira_issue_links WHERE export_item_id = $1', [exportItemId]))[0].status;
  const issueEvents = () =>
    app.dataSource.query<{ envelope: { tenantId: string; payload: Record<string, unknown> } }[]>(
      "SELECT envelope FROM outbox WHERE event_type = 'jira.issue_updated' ORDER BY sequence_number",
    );

  it('records a signed status change on the link and publishes jira.issue_updated through the outbox', async () => {
    const answer = await jira.sendWebhook(hookUrl(), { secret, identifier: 'delivery-1', event: { issueKey, status: 'In Progress' } });

    expect(answer.status).toBe(200);
    expect(await linkStatus()).toBe('In Progress');
    const events = await issueEvents();
    expect(events).toHaveLength(1);
    expect(events[0].envelope).toMatchObject({
      tenantId,
      payload: { connectionId, issueKey, documentId, exportItemId, status: 'In Progress', previousStatus: 'To Do', webhookEvent: 'jira:issue_updated' },
    });
    await eventually('the event published', async () => (await app.dataSource.query("SELECT 1 FROM outbox WHERE event_type = 'jira.issue_updated' AND published_at IS NOT NULL")).length > 0);
  });

  it('refuses a forged or missing signature and changes nothing', async () => {
    const events = (await issueEvents()).length;

    const forged = await jira.sendWebhook(hookUrl(), { secret: 'not-the-secret', identifier: 'delivery-forged', event: { issueKey, status: 'Done' } });
    const unsigned = await jira.sendWebhook(hookUrl(), { secret, signature: '', identifier: 'delivery-unsigned', event: { issueKey, status: 'Done' } });

    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(unsigned.status).toBe(401);
    expect(await linkStatus()).toBe('In Progress');
    expect(await issueEvents()).toHaveLength(events);
  });

  it('drops a delivery whose identifier was seen before', async () => {
    const events = (await issueEvents()).length;

    const replay = await jira.sendWebhook(hookUrl(), { secret, identifier: 'delivery-1', event: { issueKey, status: 'Done' } });

    expect(replay.status).toBe(200);
    expect(JSON.parse(replay.body)).toEqual({ received: true, duplicate: true });
    expect(await linkStatus()).toBe('In Progress');
    expect(await issueEvents()).toHaveLength(events);
  });

  it('answers 404 for an unknown connection', async () => {
    expect((await jira.sendWebhook(hookUrl(randomUUID()), { secret, identifier: 'delivery-x', event: { issueKey, status: 'Done' } })).status).toBe(404);
    expect((await jira.sendWebhook(`${app.url}/webhooks/jira/not-a-uuid`, { secret, identifier: 'delivery-y', event: { issueKey, status: 'Done' } })).status).toBe(404);
  });
});
