import { createHmac } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpException, Version3Client } from 'jira.js';
import { FakeJira, startFakeJira } from './fake-jira';

const adf = (text: string) => ({ type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] });
const entry = (summary: string, extra: Record<string, unknown> = {}) => ({
  fields: { project: { key: 'MP' }, issuetype: { name: 'Task' }, summary, description: adf(summary), labels: ['mp-spec'], ...extra },
});

/** What jira.js threw for a refused request: status and JIRA's body. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as HttpException).cause as { response: { status: number; data: Record<string, unknown> } };
    return { status: cause.response.status, body: cause.response.data };
  }
  throw new Error('expected JIRA to refuse the request');
}

describe('startFakeJira', () => {
  let jira: FakeJira;
  let client: Version3Client;

  beforeEach(async () => {
    jira = await startFakeJira({ requestsPerSecond: 1000 });
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token-1', displayName: 'Export Bot' });
    client = new Version3Client({ host: jira.url, authentication: { basic: { email: 'bot@example.com', apiToken: 'token-1' } } });
  });

  afterEach(async () => {
    await jira.close();
  });

  it('signs in with email and API token, and refuses others with 401 in JIRA’s error shape', async () => {
    expect(await client.myself.getCurrentUser()).toMatchObject({ emailAddress: 'bot@example.com', displayName: 'Export Bot', accountId: expect.any(String) });

    const wrong = new Version3Client({ host: jira.url, authentication: { basic: { email: 'bot@example.com', apiToken: 'nope' } } });
    expect(await refusal(wrong.myself.getCurrentUser())).toEqual({ status: 401, body: { errorMessages: [expect.any(String)], errors: {} } });
  });

  it('refuses more than 50 entries in one bulk create', async () => {
    const updates = Array.from({ length: 51 }, (_, index) => entry(`Item ${index}`));

    const refused = await refusal(client.issues.createIssues({ issueUpdates: updates }));

    expect(refused.status).toBe(400);
    expect(refused.body.errorMessages).toEqual([expect.stringContaining('50')]);
    expect(jira.issues.size).toBe(0);
  });

  it('creates the valid entries of a bulk request and reports the invalid ones by element number', async () => {
    const answer = await client.issues.createIssues({
      issueUpdates: [
        entry('Good one'),
        entry('Two\nlines'),
        entry('x'.repeat(256)),
        entry('Bad description', { description: 'plain text' }),
        entry('Bad labels', { labels: ['has space'] }),
        { fields: { project: { key: 'MP' }, summary: 'No type' } },
        entry('', {}),
        entry('Good two'),
      ],
    });

    expect(answer.issues?.map((issue) => issue.key)).toEqual(['MP-1', 'MP-2']);
    expect(answer.errors?.map((error) => [error.failedElementNumber, Object.keys(error.elementErrors?.errors ?? {})])).toEqual([
      [1, ['summary']],
      [2, ['summary']],
      [3, ['description']],
      [4, ['labels']],
      [5, ['issuetype']],
      [6, ['summary']],
    ]);
    expect([...jira.issues.values()].map((issue) => issue.fields.summary)).toEqual(['Good one', 'Good two']);
  });

  it('answers 400 with the errors when every entry fails, and rejects matching summaries as often as asked', async () => {
    jira.rejectSummaries(/^Flaky/, 1);

    const refused = await refusal(client.issues.createIssues({ issueUpdates: [entry('Flaky 1')] }));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ failedElementNumber: 0 })]);

    expect((await client.issues.createIssues({ issueUpdates: [entry('Flaky 1')] })).issues).toHaveLength(1);
  });

  it('creates sub-tasks under an existing parent, finds issues by JQL on labels and project, and reads them', async () => {
    await client.issues.createIssues({ issueUpdates: [entry('A', { labels: ['a-1'] }), entry('B', { labels: ['b-1', 'x'] }), entry('C', { labels: ['c-1'] })] });
    const sub = await client.issues.createIssue({ fields: { project: { key: 'MP' }, issuetype: { name: 'Sub-task' }, parent: { key: 'MP-1' }, summary: 'Sub' } });
    expect(sub.key).toBe('MP-4');
    expect(await refusal(client.issues.createIssue({ fields: { project: { key: 'MP' }, issuetype: { name: 'Sub-task' }, parent: { key: 'MP-99' }, summary: 'Orphan' } }))).toMatchObject({
      status: 400,
      body: { errors: { parent: expect.any(String) } },
    });

    const found = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql: 'project = MP AND labels in ("a-1", "c-1")', fields: ['labels'] });
    expect(found.issues?.map((issue) => issue.key)).toEqual(['MP-1', 'MP-3']);
    const byGet = await client.issueSearch.searchForIssuesUsingJqlEnhancedSearch({ jql: 'labels = "x" AND project = MP' });
    expect(byGet.issues?.map((issue) => issue.key)).toEqual(['MP-2']);
    expect(await refusal(client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({ jql: 'summary ~ "A"' }))).toMatchObject({ status: 400 });

    expect(await client.issues.getIssue({ issueIdOrKey: 'MP-4' })).toMatchObject({ key: 'MP-4', fields: { parent: { key: 'MP-1' }, status: { name: 'To Do' } } });
  });

  it('limits each account with a token bucket, sending the rate limit headers on every answer', async () => {
    await jira.close();
    jira = await startFakeJira({ requestsPerSecond: 2 });
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token-1', displayName: 'Export Bot' });
    const auth = `Basic ${Buffer.from('bot@example.com:token-1').toString('base64')}`;
    const statuses: { status: number; headers: Headers }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await fetch(`${jira.url}/rest/api/3/myself`, { headers: { authorization: auth } });
      statuses.push({ status: response.status, headers: response.headers });
    }

    expect(statuses.map(({ status }) => status)).toEqual([200, 200, 429]);
    expect(statuses[0].headers.get('x-ratelimit-limit')).toBe('2');
    expect(statuses[0].headers.get('x-ratelimit-remaining')).toBe('1');
    expect(Date.parse(statuses[0].headers.get('x-ratelimit-reset') ?? '')).not.toBeNaN();
    expect(statuses[2].headers.get('retry-after')).toBe('1');
  });

  it('injects 5xx blips and rate limit storms', async () => {
    jira.failNext(2, 502);
    expect((await refusal(client.myself.getCurrentUser())).status).toBe(502);
    expect((await refusal(client.myself.getCurrentUser())).status).toBe(502);
    expect(await client.myself.getCurrentUser()).toMatchObject({ displayName: 'Export Bot' });

    jira.rateLimitStorm(60_000);
    expect((await refusal(client.myself.getCurrentUser())).status).toBe(429);
    expect(jira.requests.at(-1)).toMatchObject({ method: 'GET', path: '/rest/api/3/myself', account: 'bot@example.com', status: 429 });
  });

  it('sends issue webhooks signed with the secret over the raw body', async () => {
    await client.issues.createIssues({ issueUpdates: [entry('Watched')] });
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

      expect((await jira.sendWebhook(url, { secret: 's3cret', identifier: 'delivery-1', event: { issueKey: 'MP-1', status: 'Done' } })).status).toBe(204);

      const [{ headers, body }] = received;
      expect(headers['x-atlassian-webhook-identifier']).toBe('delivery-1');
      expect(headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
      expect(JSON.parse(body)).toMatchObject({
        webhookEvent: 'jira:issue_updated',
        issue: { key: 'MP-1', fields: { status: { name: 'Done' } } },
        changelog: { items: [{ field: 'status', fromString: 'To Do', toString: 'Done' }] },
      });
      expect(jira.issues.get('MP-1')?.fields.status.name).toBe('Done');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
