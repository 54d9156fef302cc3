import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { BadUserInputError, ConflictError, NotFoundError } from '@multipult/graphql';
import { FakeJira, startFakeJira } from '@multipult/testing';
import { ExportTestApp, startExportTestApp } from '../testing/export-test-app';
import { CreateJiraConnectionInput } from './dto';
import { JiraConnectionsService } from './jira-connections.service';

describe('JiraConnectionsService', () => {
  let app: ExportTestApp;
  let jira: FakeJira;
  let connections: JiraConnectionsService;
  const tenantId = randomUUID();
  const userId = randomUUID();
  const API_TOKEN = 'ATATT3xFfGF0-plain-api-token';

  beforeAll(async () => {
    jira = await startFakeJira();
    jira.addAccount({ email: 'bot@example.com', apiToken: API_TOKEN, displayName: 'Export Bot' });
    app = await startExportTestApp('jira_connections', { JIRA_ALLOW_PRIVATE_NETWORKS: 'true' }, { listen: true });
    connections = app.get(JiraConnectionsService);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await jira?.close();
  });

  const input = (overrides: Partial<CreateJiraConnectionInput> = {}): CreateJiraConnectionInput => ({
    name: `Site ${randomUUID().slice(0, 8)}`,
    baseUrl: jira.url,
    accountEmail: 'Bot@Example.com',
    apiToken: API_TOKEN,
    projectKey: 'MP',
    issueTypeName: 'Task',
    labels: ['from-multipult'],
    customFields: [{ fieldId: 'customfield_10010', value: 'Doc {{documentId}}' }],
    ...overrides,
  });

  it('creates a connection with the token and webhook secret sealed, returning the secret once', async () => {
    const { connection, webhookSecret } = await connections.create(tenantId, userId, input({ name: 'Main site' }));

    expect(connection).toMatchObject({ tenantId, name: 'Main site', accountEmail: 'bot@example.com', subTaskTypeName: 'Sub-task', exportComments: false, createdBy: userId });
    expect(webhookSecret.length).toBeGreaterThanOrEqual(40);
    const [row] = await app.dataSource.query('SELECT * FROM jira_connections WHERE id = $1', [connection.id]);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(API_TOKEN);
    expect(stored).not.toContain(webhookSecret);
    expect(row.sealed_api_token).toMatch(/^v1\./);
    expect(connections.siteOf(connection).apiToken).toBe(API_TOKEN);
    expect(connections.webhookSecretOf(connection)).toBe(webhookSecret);
    expect(row.custom_fields).toEqual({ customfield_10010: 'Doc {{documentId}}' });
  });

  it('lists, updates and deletes only within the tenant; another tenant sees NOT_FOUND', async () => {
    const { connection } = await connections.create(tenantId, userId, input());
    const otherTenant = randomUUID();

    await expect(connections.get(otherTenant, connection.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(connections.update(otherTenant, { id: connection.id, name: 'Stolen' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(connections.delete(otherTenant, connection.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(connections.test(otherTenant, connection.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(connections.get(tenantId, 'not-a-uuid')).rejects.toBeInstanceOf(NotFoundError);
    expect(await connections.list(otherTenant)).toEqual([]);

    const updated = await connections.update(tenantId, { id: connection.id, projectKey: 'OPS', exportComments: true, apiToken: 'new-token' });
    expect(updated).toMatchObject({ projectKey: 'OPS', exportComments: true });
    expect(connections.siteOf(updated).apiToken).toBe('new-token');
    expect((await connections.list(tenantId)).map((listed) => listed.id)).toContain(connection.id);

    expect(await connections.delete(tenantId, connection.id)).toBe(connection.id);
    await expect(connections.get(tenantId, connection.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const before = await connections.list(tenantId);

    await expect(connections.create(tenantId, userId, input({ baseUrl: 'ftp://jira.example.com' }))).rejects.toBeInstanceOf(BadUserInputError);
    await expect(connections.create(tenantId, userId, input({ baseUrl: 'https://user:pass@jira.example.com' }))).rejects.toBeInstanceOf(BadUserInputError);
    await expect(connections.create(tenantId, userId, input({ customFields: [{ fieldId: 'customfield_1', value: '{{password}}' }] }))).rejects.toBeInstanceOf(BadUserInputError);
    await expect(
      connections.create(tenantId, userId, input({ customFields: [{ fieldId: 'customfield_1', value: 'a' }, { fieldId: 'customfield_1', value: 'b' }] })),
    ).rejects.toBeInstanceOf(BadUserInputError);
    await expect(connections.create(tenantId, userId, input({ name: 'Main site' }))).rejects.toBeInstanceOf(ConflictError);

    expect(await connections.list(tenantId)).toHaveLength(before.length);
    const problems = async (raw: object) => (await validate(plainToInstance(CreateJiraConnectionInput, { ...input(), ...raw }))).map((error) => error.property);
    expect(await problems({ projectKey: 'lower' })).toEqual(['projectKey']);
    expect(await problems({ labels: ['has space'] })).toEqual(['labels']);
    expect(await problems({ accountEmail: 'nope' })).toEqual(['accountEmail']);
    expect(await problems({ customFields: [{ fieldId: 'summary', value: 'x' }] })).toEqual(['customFields']);
  });

  it('refuses private addresses and plain http unless private networks are allowed', async () => {
    const strict = await startExportTestApp('jira_connections_strict');
    try {
      const service = strict.get(JiraConnectionsService);
      await expect(service.create(tenantId, userId, input({ baseUrl: 'https://127.0.0.1:8443' }))).rejects.toMatchObject({
        fieldProblems: [{ field: 'baseUrl', key: 'errors.jira_private_target' }],
      });
      await expect(service.create(tenantId, userId, input({ baseUrl: 'http://jira.example.com' }))).rejects.toMatchObject({
        fieldProblems: [{ field: 'baseUrl', key: 'validation.jiraBaseUrl' }],
      });
    } finally {
      await strict.close();
    }
  });

  it('tests a connection: the signed-in account with good credentials, JIRA’s refusal recorded with bad ones', async () => {
    const { connection } = await connections.create(tenantId, userId, input());

    const good = await connections.test(tenantId, connection.id);
    expect(good.account).toEqual({ accountId: expect.any(String), displayName: 'Export Bot', emailAddress: 'bot@example.com' });
    expect(good.error).toBeNull();
    expect(good.connection.lastSuccessAt).toBeInstanceOf(Date);

    await connections.update(tenantId, { id: connection.id, apiToken: 'revoked-token' });
    const bad = await connections.test(tenantId, connection.id);
    expect(bad.account).toBeNull();
    expect(bad.error).toMatch(/^401/);
    expect(bad.connection).toMatchObject({ lastError: expect.stringMatching(/^401/), lastErrorAt: expect.any(Date) });
  });

  it('serves the connections in the GraphQL schema, never the token or secrets, and only to signed-in callers', async () => {
    const graphql = (query: string) =>
      fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }), signal: AbortSignal.timeout(10_000) }).then(
        (response) => response.json() as Promise<{ data?: { _service: { sdl: string } }; errors?: { extensions: { code: string } }[] }>,
      );

    const { data } = await graphql('{ _service { sdl } }');
    const sdl = data?._service.sdl ?? '';
    for (const field of ['jiraConnections', 'jiraConnection(id: ID!)', 'createJiraConnection(input: CreateJiraConnectionInput!)', 'testJiraConnection(input: JiraConnectionIdInput!)']) {
      expect(sdl).toContain(field);
    }
    const connectionType = /type JiraConnection \{[^}]*\}/.exec(sdl)?.[0] ?? '';
    expect(connectionType).toContain('webhookPath');
    expect(connectionType).not.toMatch(/apiToken|sealed|[sS]ecret/);

    expect((await graphql('{ jiraConnections { id } }')).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
