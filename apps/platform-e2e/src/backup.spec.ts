import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { backupSchemas, resolvePgClientTools, restoreSchemas, verifyBackup, type BackupManifest } from '@multipult/backup';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { eventually, graphql, graphqlData, workspaceRoot } from '@multipult/testing';
import { PASSWORD, createTenantFor, registerAccount } from './support/accounts';
import { inbox } from './support/notifications';
import { PlatformOf, usePlatform } from './support/platforms';

/**
 * Backup and restore of every service's schema on a platform of its own ('backup'): data made
 * through the gateway in each service survives DROP SCHEMA … CASCADE of all of them, and reads
 * the same through the gateway afterwards.
 */
describe('backup and restore of every service schema', () => {
  const SCHEMAS = SERVICE_REGISTRY.services.map((service) => service.schema);
  let platform: PlatformOf<'backup'>;
  let db: Client;
  let directory: string;

  beforeAll(async () => {
    platform = await usePlatform('backup');
    db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
    await resolvePgClientTools(rows[0].major).catch(() =>
      execFileSync(process.execPath, [path.join(workspaceRoot(), 'tools/pg-binaries/pg-binaries.mjs'), 'fetch', String(rows[0].major)], {
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 300_000,
      }),
    );
    directory = await mkdtemp(path.join(os.tmpdir(), 'multipult-e2e-backup-'));
  }, 360_000);

  afterAll(async () => {
    await db?.end();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  /** Every table's row count in the services' schemas, read in one snapshot. */
  async function rowCounts(): Promise<Record<string, number>> {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const { rows: tables } = await db.query<{ schema: string; name: string }>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') ORDER BY 1, 2`,
        [SCHEMAS],
      );
      const counts: Record<string, number> = {};
      for (const { schema, name } of tables) {
        const { rows } = await db.query<{ count: string }>(`SELECT count(*) AS count FROM "${schema}"."${name}"`);
        counts[`${schema}.${name}`] = Number(rows[0].count);
      }
      return counts;
    } finally {
      await db.query('COMMIT');
    }
  }

  const manifestCounts = (manifest: BackupManifest) =>
    Object.fromEntries(manifest.schemas.flatMap((backup) => Object.entries(backup.tables).map(([table, rows]) => [`${backup.schema}.${table}`, rows])));

  it('brings back users, tenants, documents, comments, notifications, exports and agents after every schema was dropped', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'archivist');
    const { tenantId, accessToken: token } = await createTenantFor(platform.gatewayUrl, account);
    const as = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });

    const { createDocument } = await as<{ createDocument: { document: { id: string } } }>(
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { input: { title: 'Ledger of the harbour', body: 'Ships that came and went.', type: 'ARTICLE', language: 'en' } },
    );
    const documentId = createDocument.document.id;
    await as(`mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { status } } }`, { input: { id: documentId } });
    await as(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, {
      input: { documentId, body: 'The *Albatross* is missing.' },
    });
    const welcome = await eventually('the welcome notification', async () => (await inbox(platform.gatewayUrl, token)).nodes.find((n) => n.type === 'welcome'));
    const { requestExport } = await as<{ requestExport: { export: { id: string } } }>(
      `mutation($input: RequestExportInput!) { requestExport(input: $input) { export { id } } }`,
      { input: { format: 'PDF', selection: { documentIds: [documentId] } } },
    );
    const exportId = requestExport.export.id;
    const EXPORT = `query($id: ID!) { export(id: $id) { id status itemCount fileName fileSize fileSha256 } }`;
    await eventually('the export to succeed', async () => {
      const { export: found } = await as<{ export: { status: string } }>(EXPORT, { id: exportId });
      return found.status === 'SUCCEEDED' ? found : undefined;
    }, 60_000);
    const { createAgent } = await as<{ createAgent: { agent: { id: string } } }>(
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
      { input: { name: 'Harbour master', model: 'fake/default', systemPrompt: 'You keep the ledger.' } },
    );
    const agentId = createAgent.agent.id;

    /** What the gateway answers about the data of every service. */
    const readBack = async () => ({
      me: (await as<{ me: unknown }>('{ me { id email displayName } }')).me,
      tenant: (await as<{ tenant: unknown }>('query($id: ID!) { tenant(id: $id) { id name slug } }', { id: tenantId })).tenant,
      document: (
        await as<{ document: unknown }>(`query($id: ID!) { document(id: $id) { id title status comments { html author { displayName } } } }`, {
          id: documentId,
        })
      ).document,
      notifications: (await inbox(platform.gatewayUrl, token)).nodes,
      export: (await as<{ export: unknown }>(EXPORT, { id: exportId })).export,
      agent: (await as<{ agent: unknown }>(`query($id: ID!) { agent(id: $id) { id name model systemPrompt version } }`, { id: agentId })).agent,
    });
    const before = await readBack();
    expect(before).toMatchObject({
      me: { id: account.userId },
      tenant: { id: tenantId },
      document: { id: documentId, comments: [{ html: expect.stringContaining('<em>Albatross</em>'), author: { displayName: 'archivist' } }] },
      notifications: expect.arrayContaining([expect.objectContaining({ id: welcome.id })]),
      export: { id: exportId, status: 'SUCCEEDED' },
      agent: { id: agentId, name: 'Harbour master' },
    });

    const manifest = await backupSchemas({ databaseUrl: platform.databaseUrl, schemas: SCHEMAS, directory });
    expect(manifest.schemas.map((backup) => backup.schema)).toEqual(SCHEMAS);
    expect(manifest.schemas.find((backup) => backup.schema === 'content')?.tables).toMatchObject({ documents: expect.any(Number) });
    await expect(verifyBackup({ databaseUrl: platform.databaseUrl, directory })).resolves.toMatchObject({ ok: true, mismatches: [] });

    await db.query(SCHEMAS.map((schema) => `DROP SCHEMA "${schema}" CASCADE`).join('; '));
    const { rows: dropped } = await db.query('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [SCHEMAS]);
    expect(dropped).toEqual([]);
    const broken = await graphql(platform.gatewayUrl, '{ notifications(first: 1) { totalCount } }', { token });
    expect(broken.errors?.length).toBeGreaterThan(0);

    await expect(restoreSchemas({ databaseUrl: platform.databaseUrl, directory })).resolves.toEqual({ schemas: SCHEMAS });

    expect(await rowCounts()).toEqual(manifestCounts(manifest));
    expect(await readBack()).toEqual(before);
    // Reads the gateway might answer from a cache aside, the restored rows take writes and sign-ins.
    const { login } = await graphqlData<{ login: { user: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: LoginInput!) { login(input: $input) { user { id } } }`,
      { variables: { input: { email: account.email, password: PASSWORD } } },
    );
    expect(login.user.id).toBe(account.userId);
    await as(`mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, { input: { documentId, body: 'Found at dawn.' } });
    const { document } = await as<{ document: { comments: { html: string }[] } }>(`query($id: ID!) { document(id: $id) { comments { html } } }`, {
      id: documentId,
    });
    expect(document.comments.map((comment) => comment.html)).toEqual([expect.stringContaining('Albatross'), expect.stringContaining('Found at dawn.')]);
  });
});
