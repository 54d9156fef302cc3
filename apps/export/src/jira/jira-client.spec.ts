import { randomBytes, randomUUID } from 'node:crypto';
import { FakeJira, startFakeJira } from '@multipult/testing';
import { ExportTestApp, startExportTestApp } from '../testing/export-test-app';
import { JiraClients, JiraSite, jiraFailureOf } from './jira-client';

// Two replicas of the export service sharing one Redis (same key prefix), calling one JIRA site.

describe('JiraClients across replicas', () => {
  let replicas: ExportTestApp[];
  let jira: FakeJira;
  let site: JiraSite;
  const env = { JIRA_ALLOW_PRIVATE_NETWORKS: 'true', JIRA_REQUESTS_PER_SECOND: '10', REDIS_KEY_PREFIX: `test:export-jira-replicas:${randomBytes(4).toString('hex')}:` };

  beforeAll(async () => {
    jira = await startFakeJira({ requestsPerSecond: 1000 });
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token', displayName: 'Export Bot' });
    replicas = [await startExportTestApp('jira_replica_a', env), await startExportTestApp('jira_replica_b', env)];
  }, 60_000);

  beforeEach(() => {
    site = { id: randomUUID(), baseUrl: jira.url, email: 'bot@example.com', apiToken: 'token' };
  });

  afterAll(async () => {
    await Promise.all((replicas ?? []).map((replica) => replica.close()));
    await jira?.close();
  });

  const myself = (replica: ExportTestApp, target = site) => replica.get(JiraClients).call(target, (client) => client.myself.getCurrentUser());

  it('paces one connection to JIRA_REQUESTS_PER_SECOND across replicas, and other connections not at all', async () => {
    const started = Date.now();
    await Promise.all(replicas.flatMap((replica) => Array.from({ length: 15 }, () => myself(replica))));
    const paced = Date.now() - started;

    // 30 calls at 10 a second through one sliding window: at least two seconds, whichever replica sent them.
    expect(paced).toBeGreaterThanOrEqual(1_800);
    const times = jira.requests.slice(-30).map((request) => request.at);
    const busiestSecond = Math.max(...times.map((at) => times.filter((other) => other >= at && other < at + 1_000).length));
    expect(busiestSecond).toBeLessThanOrEqual(20);

    const others = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => myself(replicas[0], { ...site, id: randomUUID() })));
    expect(Date.now() - others).toBeLessThan(1_000);
  });

  it("pauses every replica when JIRA answers 429 to one, until its Retry-After", async () => {
    jira.rateLimitStorm(1_500);
    const refused = await myself(replicas[0]).catch((error: unknown) => jiraFailureOf(error));
    expect(refused).toMatchObject({ status: 429, retryAfterMs: 2_000 });
    const requests = jira.requests.length;

    const started = Date.now();
    await expect(myself(replicas[1])).resolves.toMatchObject({ displayName: 'Export Bot' });

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    // The second replica waited instead of asking during the pause.
    expect(jira.requests.slice(requests).map((request) => request.status)).toEqual([200]);
  });
});

describe('JiraClients on public networks only', () => {
  let replica: ExportTestApp;
  let jira: FakeJira;

  beforeAll(async () => {
    jira = await startFakeJira({ requestsPerSecond: 1000 });
    jira.addAccount({ email: 'bot@example.com', apiToken: 'token', displayName: 'Export Bot' });
    replica = await startExportTestApp('jira_public_only', { JIRA_ALLOW_PRIVATE_NETWORKS: 'false' });
  }, 60_000);

  afterAll(async () => {
    await replica?.close();
    await jira?.close();
  });

  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::127.0.0.1]', '2130706433'])(
    'refuses a site whose address literal %s is loopback, before connecting',
    async (host) => {
      const requests = jira.requests.length;
      const site = { id: randomUUID(), baseUrl: `http://${host}:${new URL(jira.url).port}`, email: 'bot@example.com', apiToken: 'token' };
      const failure = await replica
        .get(JiraClients)
        .call(site, (client) => client.myself.getCurrentUser())
        .then(() => null, (error: unknown) => jiraFailureOf(error));
      expect(failure).toMatchObject({ privateTarget: true });
      expect(jira.requests.length).toBe(requests);
    },
  );
});
