import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { graphqlData, startFakeJira, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV } from './infrastructure';

/*
 * Items to JIRA through the platform against the fake JIRA Cloud limited to `requestsPerSecond`
 * per account (429 with Retry-After beyond it). The floor is what JIRA's limit alone allows: one
 * bulk request per 50 items at that rate (1 000 items at 10/s: 20 requests, 2 s).
 */

export interface ExportJiraOptions {
  items: number;
  requestsPerSecond: number;
}

export interface ExportJiraResult {
  items: number;
  seconds: number;
  floorSeconds: number;
  ratio: number;
  requests: number;
  bulkRequests: number;
  rateLimited: number;
  issues: number;
}

export async function exportJira(options: ExportJiraOptions): Promise<ExportJiraResult> {
  const jira = await startFakeJira({ requestsPerSecond: options.requestsPerSecond });
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
    // The fake listens on 127.0.0.1 over http; our pace matches the site's limit.
    serviceEnv: { export: { JIRA_ALLOW_PRIVATE_NETWORKS: 'true', JIRA_REQUESTS_PER_SECOND: String(options.requestsPerSecond), JOBS_POLL_INTERVAL_SECONDS: '0.5' } },
  });
  try {
    const gateway = platform.gatewayUrl;
    const registered = await graphqlData<{ register: { accessToken: string } }>(gateway, `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
      variables: { input: { email: `bench-jira-${randomUUID()}@example.com`, password: 'correct horse battery staple 7', displayName: 'Bench JIRA' } },
    });
    const created = await graphqlData<{ createTenant: { tenant: { id: string } } }>(gateway, `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`, {
      token: registered.register.accessToken,
      variables: { input: { name: 'Bench JIRA', slug: `bench-jira-${Date.now()}` } },
    });
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(gateway, `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`, {
      token: registered.register.accessToken,
      variables: { input: { tenantId: created.createTenant.tenant.id } },
    });
    const token = switched.switchTenant.accessToken;
    const email = `jira-${randomUUID()}@example.com`;
    const apiToken = `token-${randomUUID()}`;
    jira.addAccount({ email, apiToken, displayName: 'Bench Bot' });
    const site = await graphqlData<{ createJiraConnection: { connection: { id: string } } }>(
      gateway,
      `mutation($input: CreateJiraConnectionInput!) { createJiraConnection(input: $input) { connection { id } } }`,
      { token, variables: { input: { name: 'Bench site', baseUrl: jira.url, accountEmail: email, apiToken, projectKey: 'BN', issueTypeName: 'Task' } } },
    );
    const ids: string[] = [];
    for (let index = 0; index < options.items; index += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, options.items - index) }, (_, offset) =>
          graphqlData<{ createDocument: { document: { id: string } } }>(gateway, `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`, {
            token,
            variables: { input: { title: `Item ${index + offset}`, body: `Issue **${index + offset}** from the benchmark`, type: 'ARTICLE', language: 'en' } },
          }),
        ),
      );
      ids.push(...batch.map((result) => result.createDocument.document.id));
    }

    const started = performance.now();
    const requested = await graphqlData<{ requestExport: { export: { id: string } } }>(
      gateway,
      `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`,
      { token, variables: { input: { format: 'JIRA', jiraConnectionId: site.createJiraConnection.connection.id, selection: { documentIds: ids } } } },
    );
    let status = 'QUEUED';
    while (!['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(status)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const polled = await graphqlData<{ export: { status: string } }>(gateway, `query($id: ID!) { export(id: $id) { status } }`, {
        token,
        variables: { id: requested.requestExport.export.id },
      });
      status = polled.export.status;
    }
    if (status !== 'SUCCEEDED') throw new Error(`the JIRA export ended ${status}`);
    const seconds = (performance.now() - started) / 1000;
    const mine = jira.requests.filter((request) => request.account === email);
    const floorSeconds = Math.ceil(options.items / 50) / options.requestsPerSecond;
    return {
      items: options.items,
      seconds,
      floorSeconds,
      ratio: seconds / floorSeconds,
      requests: mine.length,
      bulkRequests: mine.filter((request) => request.path === '/rest/api/3/issue/bulk' && request.status < 300).length,
      rateLimited: mine.filter((request) => request.status === 429).length,
      issues: [...jira.issues.values()].filter((issue) => issue.createdBy === email).length,
    };
  } finally {
    await platform.stop();
    await jira.close();
  }
}
