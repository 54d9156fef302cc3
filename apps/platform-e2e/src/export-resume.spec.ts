import { randomUUID } from 'node:crypto';
import { eventually, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

/**
 * Durable export jobs survive their worker: the export service is killed (SIGKILL, no shutdown
 * hooks) in the middle of a JIRA export and a new instance takes its place; the job is retried
 * once its attempt times out, resumes from the items' recorded state, and JIRA ends with exactly
 * one issue per document. Its own platform ('worker-resume'): it kills that platform's only
 * export instance, which other files' exports would feel.
 */
describe('an export whose worker is killed', () => {
  let platform: PlatformOf<'worker-resume'>;

  beforeAll(async () => {
    platform = await usePlatform('worker-resume');
  });

  it('resumes on a new worker and finishes with no duplicate JIRA issue', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'resume-admin');
    const { accessToken: token } = await createTenantFor(platform.gatewayUrl, account);
    const as = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });

    const email = `jira-${randomUUID()}@example.com`;
    const apiToken = `token-${randomUUID()}`;
    platform.jira.addAccount({ email, apiToken, displayName: 'Resume Bot' });
    const site = await as<{ createJiraConnection: { connection: { id: string } } }>(
      `mutation($input: CreateJiraConnectionInput!) { createJiraConnection(input: $input) { connection { id } } }`,
      { input: { name: 'Resumable', baseUrl: platform.jira.url, accountEmail: email, apiToken, projectKey: 'RS', issueTypeName: 'Task' } },
    );
    const ids: string[] = [];
    for (let index = 0; index < 120; index += 10) {
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, offset) =>
          as<{ createDocument: { document: { id: string } } }>(`mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`, {
            input: { title: `Resumed ${index + offset}`, body: 'body', type: 'ARTICLE', language: 'en' },
          }),
        ),
      );
      ids.push(...created.map((result) => result.createDocument.document.id));
    }
    const requested = await as<{ requestExport: { export: { id: string } } }>(
      `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`,
      { input: { format: 'JIRA', jiraConnectionId: site.createJiraConnection.connection.id, selection: { documentIds: ids } } },
    );
    const issues = () => [...platform.jira.issues.values()].filter((issue) => issue.createdBy === email);

    await eventually('the first batch reached JIRA', () => issues().length >= 50 || undefined, 30_000);
    expect(issues().length).toBeLessThan(120);
    const killed = platform.services.export;
    killed.kill();
    await eventually('the killed worker is gone', async () => (await fetch(`${killed.url}/health/live`).then(() => false, () => true)) || undefined, 10_000);
    await platform.startServiceInstance('export', {}, killed.port);

    const done = await eventually(
      'the export finished on the new worker',
      async () => {
        const { export: found } = await as<{ export: { status: string; attempts: number; doneCount: number } }>(
          `query($id: ID!) { export(id: $id) { status attempts doneCount } }`,
          { id: requested.requestExport.export.id },
        );
        return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(found.status) ? found : undefined;
      },
      90_000,
    );
    expect(done).toMatchObject({ status: 'SUCCEEDED', doneCount: 120 });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(issues()).toHaveLength(120);
    expect(new Set(issues().map((issue) => issue.fields.summary)).size).toBe(120);
  });
});
