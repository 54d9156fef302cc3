import { randomUUID } from 'node:crypto';
import { FakeJira, startFakeJira } from '@multipult/testing';
import { ExportTestApp, startExportTestApp } from '../testing/export-test-app';
import { JiraConnectionsService } from './jira-connections.service';
import { JiraExportError, JiraExportItem, JiraIssueExporter, exportItemLabel } from './jira-issue-exporter';

// The exporter against fake JIRA sites over HTTP, through the whole app module (real PostgreSQL and Redis).

describe('JiraIssueExporter', () => {
  let app: ExportTestApp;
  let exporter: JiraIssueExporter;
  let connections: JiraConnectionsService;
  const fakes: FakeJira[] = [];
  const tenantId = randomUUID();

  beforeAll(async () => {
    app = await startExportTestApp('jira_exporter', {
      JIRA_ALLOW_PRIVATE_NETWORKS: 'true',
      JIRA_REQUESTS_PER_SECOND: '50',
      JIRA_RETRY_INITIAL_MS: '20',
      JIRA_RETRY_MAX_MS: '200',
      JIRA_MAX_ATTEMPTS: '3',
    });
    exporter = app.get(JiraIssueExporter);
    connections = app.get(JiraConnectionsService);
  }, 60_000);

  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((fake) => fake.close()));
  });

  afterAll(async () => {
    await app?.close();
  });

  /** A fake site with one account, and a connection of the tenant to it. */
  async function site(options: { exportComments?: boolean; requestsPerSecond?: number } = {}) {
    const jira = await startFakeJira({ requestsPerSecond: options.requestsPerSecond ?? 1000 });
    fakes.push(jira);
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token', displayName: 'Export Bot' });
    const { connection } = await connections.create(tenantId, randomUUID(), {
      name: `Site ${randomUUID()}`,
      baseUrl: jira.url,
      accountEmail: 'bot@example.com',
      apiToken: 'token',
      projectKey: 'MP',
      issueTypeName: 'Task',
      labels: ['multipult'],
      customFields: [{ fieldId: 'customfield_10010', value: 'doc:{{documentId}}' }],
      exportComments: options.exportComments ?? false,
    });
    return { jira, connection };
  }

  const items = (count: number, comments = 0): JiraExportItem[] =>
    Array.from({ length: count }, (_, index) => ({
      exportItemId: randomUUID(),
      documentId: randomUUID(),
      title: `Item ${index}`,
      summary: `Summary of item ${index}`,
      markdown: `# Item ${index}\n\nSome **bold** text.`,
      comments: Array.from({ length: comments }, (_c, n) => ({ id: randomUUID(), markdown: `Comment ${n} on ${index}`, author: `Author ${n}` })),
    }));

  const bulkSizes = (jira: FakeJira) =>
    jira.requests.filter((request) => request.path === '/rest/api/3/issue/bulk' && request.status < 300).map((request) => (request.body as { issueUpdates: unknown[] }).issueUpdates.length);

  /** Every created issue carries its item's label once: no duplicates. */
  const labelsOnce = (jira: FakeJira) => {
    const labels = [...jira.issues.values()].flatMap((issue) => issue.fields.labels.filter((label) => label.startsWith('mp-export-')));
    return new Set(labels).size === labels.length;
  };

  it('exports 120 items as bulk requests of 50, 50 and 20, retrying a refused entry alone', async () => {
    const { jira, connection } = await site();
    jira.rejectSummaries(/^Item 57$/, 1);
    const batch = items(120);
    const progress: number[] = [];

    const results = await exporter.exportItems(connection.id, tenantId, batch, { onProgress: (done) => progress.push(done) });

    expect(results).toHaveLength(120);
    expect(results.every((result) => result.created && result.issueKey)).toBe(true);
    expect(results.map((result) => result.exportItemId)).toEqual(batch.map((item) => item.exportItemId));
    expect(bulkSizes(jira)).toEqual([50, 50, 1, 20]);
    const retried = jira.requests.filter((request) => request.path === '/rest/api/3/issue/bulk').at(2)?.body as { issueUpdates: { fields: { summary: string } }[] };
    expect(retried.issueUpdates[0].fields.summary).toBe('Item 57');
    expect(progress.at(-1)).toBe(120);
    expect(jira.issues.size).toBe(120);

    const issue = jira.issues.get(results[3].issueKey as string);
    expect(issue?.fields).toMatchObject({
      summary: 'Item 3',
      labels: ['multipult', exportItemLabel(batch[3].exportItemId)],
      customfield_10010: `doc:${batch[3].documentId}`,
      description: { type: 'doc', version: 1, content: expect.arrayContaining([expect.objectContaining({ type: 'heading' })]) },
    });
    const links = await app.dataSource.query('SELECT count(*)::int AS count FROM jira_issue_links WHERE connection_id = $1', [connection.id]);
    expect(links[0].count).toBe(120);
    expect((await connections.get(tenantId, connection.id)).lastSuccessAt).toBeInstanceOf(Date);
  });

  it('creates no duplicates when the same items run again, even with the recorded links lost', async () => {
    const { jira, connection } = await site();
    const batch = items(60);
    const first = await exporter.exportItems(connection.id, tenantId, batch);

    const again = await exporter.exportItems(connection.id, tenantId, batch);
    await app.dataSource.query('DELETE FROM jira_issue_links WHERE connection_id = $1', [connection.id]);
    const afterLoss = await exporter.exportItems(connection.id, tenantId, batch);

    expect(again).toEqual(first.map((result) => ({ ...result, created: false })));
    expect(afterLoss).toEqual(first.map((result) => ({ ...result, created: false })));
    expect(bulkSizes(jira)).toEqual([50, 10]);
    expect(jira.issues.size).toBe(60);
    expect(jira.requests.filter((request) => request.path === '/rest/api/3/search/jql').length).toBeGreaterThanOrEqual(4);
    const links = await app.dataSource.query('SELECT count(*)::int AS count FROM jira_issue_links WHERE connection_id = $1', [connection.id]);
    expect(links[0].count).toBe(60);
  });

  it('waits through a 429 storm and loses nothing', async () => {
    const { jira, connection } = await site();
    const batch = items(70);
    jira.rateLimitStorm(1_500);
    const started = Date.now();

    const results = await exporter.exportItems(connection.id, tenantId, batch);

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(jira.requests.some((request) => request.status === 429)).toBe(true);
    expect(results.filter((result) => result.created)).toHaveLength(70);
    expect(jira.issues.size).toBe(70);
    expect(labelsOnce(jira)).toBe(true);
  });

  it("keeps to JIRA's own rate limit by its headers, and retries 5xx blips", async () => {
    const { jira, connection } = await site({ requestsPerSecond: 2 });
    jira.failNext(1, 503);

    const results = await exporter.exportItems(connection.id, tenantId, items(120));

    expect(results.filter((result) => result.created)).toHaveLength(120);
    expect(jira.requests.filter((request) => request.status === 503)).toHaveLength(1);
    // X-RateLimit-Remaining 0 pauses until X-RateLimit-Reset, so JIRA rarely has to refuse.
    expect(jira.requests.filter((request) => request.status === 429).length).toBeLessThanOrEqual(1);
    expect(jira.issues.size).toBe(120);
    expect(labelsOnce(jira)).toBe(true);
  });

  it('lets one connection export while another is rate limited', async () => {
    const slow = await site();
    const fast = await site();
    slow.jira.rateLimitStorm(4_000);
    const finished: Record<string, number> = {};
    const started = Date.now();

    await Promise.all([
      exporter.exportItems(slow.connection.id, tenantId, items(30)).then(() => (finished.slow = Date.now() - started)),
      exporter.exportItems(fast.connection.id, tenantId, items(30)).then(() => (finished.fast = Date.now() - started)),
    ]);

    expect(finished.fast).toBeLessThan(2_000);
    expect(finished.slow).toBeGreaterThanOrEqual(3_000);
    expect(fast.jira.issues.size).toBe(30);
    expect(slow.jira.issues.size).toBe(30);
  });

  it('turns an entry JIRA keeps refusing into a typed result after the attempts allowed', async () => {
    const { jira, connection } = await site();
    jira.rejectSummaries(/^Item 1$/);

    const results = await exporter.exportItems(connection.id, tenantId, items(3));

    expect(results[1]).toEqual({
      exportItemId: expect.any(String),
      issueKey: null,
      created: false,
      error: { code: 'JIRA_REJECTED', messages: ['summary: The summary was refused by a field validator.'] },
    });
    expect(results.filter((result) => result.created)).toHaveLength(2);
    const bulk = jira.requests.filter((request) => request.path === '/rest/api/3/issue/bulk');
    expect(bulk.map((request) => [(request.body as { issueUpdates: unknown[] }).issueUpdates.length, request.status])).toEqual([
      [3, 201],
      [1, 400],
      [1, 400],
    ]);
  });

  it('stops at once on refused credentials and records the error on the connection', async () => {
    const { jira, connection } = await site();
    await connections.update(tenantId, { id: connection.id, apiToken: 'revoked' });

    await expect(exporter.exportItems(connection.id, tenantId, items(5))).rejects.toMatchObject({ code: 'JIRA_UNAUTHORIZED', status: 401 });

    expect(jira.requests).toHaveLength(1);
    expect((await connections.get(tenantId, connection.id)).lastError).toMatch(/401/);
    await expect(exporter.exportItems(connection.id, randomUUID(), items(1))).rejects.toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    await expect(exporter.exportItems(connection.id, tenantId, [{ ...items(1)[0], exportItemId: 'item-1' }])).rejects.toMatchObject({ name: 'ZodError' });
    expect(jira.requests).toHaveLength(1);
  });

  it('gives up with a typed error when JIRA keeps failing', async () => {
    const { jira, connection } = await site();
    jira.failNext(10, 500);

    const failure = await exporter.exportItems(connection.id, tenantId, items(2)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(JiraExportError);
    expect(failure).toMatchObject({ code: 'JIRA_UNAVAILABLE', status: 500 });
    expect(jira.issues.size).toBe(0);
  });

  it('stops between batches when cancelled', async () => {
    const { jira, connection } = await site();
    const controller = new AbortController();

    const outcome = exporter.exportItems(connection.id, tenantId, items(120), { signal: controller.signal, onProgress: (done) => done >= 50 && controller.abort() });

    await expect(outcome).rejects.toMatchObject({ name: 'AbortError' });
    expect(jira.issues.size).toBe(50);
  });

  it('exports comments as sub-tasks of their item, in bulk and once', async () => {
    const { jira, connection } = await site({ exportComments: true });
    const batch = items(2, 2);

    const results = await exporter.exportItems(connection.id, tenantId, batch);
    await exporter.exportItems(connection.id, tenantId, batch);

    expect(bulkSizes(jira)).toEqual([2, 4]);
    const subTasks = [...jira.issues.values()].filter((issue) => (issue.fields.issuetype as { name: string }).name === 'Sub-task');
    expect(subTasks).toHaveLength(4);
    expect(subTasks.map((issue) => (issue.fields.parent as { key: string }).key).sort()).toEqual([results[0].issueKey, results[0].issueKey, results[1].issueKey, results[1].issueKey].sort());
    expect(subTasks[0].fields).toMatchObject({ summary: 'Comment by Author 0', description: { type: 'doc' } });
    expect(labelsOnce(jira)).toBe(true);
  });
});
