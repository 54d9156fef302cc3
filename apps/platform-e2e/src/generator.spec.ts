import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ServiceProcess,
  TestDatabase,
  createTestDatabase,
  eventually,
  graphql,
  graphqlData,
  startServiceProcess,
  workspaceRoot,
} from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';

const run = promisify(execFile);

/** What a generated service needs to build: the libs it stands on, the workspace config and the generator. */
const COPIED = [
  'libs',
  'tools/generators',
  'tools/testing',
  'apps/platform-e2e',
  'tsconfig.base.json',
  'nx.json',
  'package.json',
  'package-lock.json',
  'jest.preset.js',
  'eslint.config.mjs',
  'docker-compose.yml',
  'README.md',
  'docs',
];

/**
 * The subgraph generator end to end: in a scratch copy of the workspace, `nx g @multipult/tools:subgraph`
 * creates a service that lints, typechecks, passes its unit spec and builds untouched, composes into a
 * supergraph with auth, and answers through the gateway (a mutation writing through the outbox, a
 * read, a cursor page, and its Kafka consumer's projection). Not on a shared platform: the generated
 * service exists only in the scratch workspace, so auth, it and a gateway composed from the two run here.
 */
describe('a generated subgraph', () => {
  let scratch: string;
  let database: TestDatabase;
  const started: ServiceProcess[] = [];
  let gatewayUrl: string;

  beforeAll(async () => {
    const root = workspaceRoot();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'multipult-generated-'));
    await Promise.all(COPIED.map((entry) => cp(path.join(root, entry), path.join(scratch, entry), { recursive: true })));
    await symlink(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
    const nx = path.join(root, 'node_modules/.bin/nx');
    const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
    await run(nx, ['g', '@multipult/tools:subgraph', 'ledger', '--entity', 'entry'], { cwd: scratch, env });
    // Untouched, the output passes lint, typecheck (its e2e spec included), its unit spec and the build.
    await run(nx, ['run-many', '-t', 'lint', 'typecheck', 'test', 'build', '-p', 'ledger', '--outputStyle=static', '--skipNxCache'], {
      cwd: scratch,
      env,
    });
    await run(nx, ['typecheck', 'platform-e2e', '--outputStyle=static', '--skipNxCache'], { cwd: scratch, env });

    database = await createTestDatabase('generated');
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: `generated:${process.pid}:${Date.now()}:`,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS as string,
      OUTBOX_POLL_INTERVAL_MS: '200',
    };
    const auth = await startServiceProcess({ app: 'auth', env: { ...shared, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' } });
    started.push(auth);
    const jwks = `${auth.url}/.well-known/jwks.json`;
    const ledger = await startServiceProcess({ app: 'ledger', root: scratch, env: { ...shared, AUTH_JWKS_URL: jwks } });
    started.push(ledger);
    const supergraph = path.join(scratch, 'supergraph.graphql');
    await run(process.execPath, [
      path.join(root, 'tools/compose-supergraph/compose.mjs'),
      ...['--subgraph', `auth=${auth.url}/graphql`, '--subgraph', `ledger=${ledger.url}/graphql`, '--out', supergraph],
    ]);
    const gateway = await startServiceProcess({
      app: 'gateway',
      env: { REDIS_URL: shared.REDIS_URL, REDIS_KEY_PREFIX: shared.REDIS_KEY_PREFIX, SUPERGRAPH_PATH: supergraph, AUTH_JWKS_URL: jwks },
    });
    started.push(gateway);
    gatewayUrl = `${gateway.url}/graphql`;
  }, 600_000);

  afterAll(async () => {
    await Promise.all(started.map((service) => service.stop()));
    await database?.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('answers through the gateway: create, read, list, and the count its consumer keeps from the outbox event', async () => {
    const account = await registerAccount(gatewayUrl, 'ledger-admin');
    const { accessToken } = await createTenantFor(gatewayUrl, account);
    const create = `mutation($input: CreateEntryInput!) { createEntry(input: $input) { entry { id name ownerId } } }`;
    const created = await graphqlData<{ createEntry: { entry: { id: string; name: string; ownerId: string } } }>(gatewayUrl, create, {
      token: accessToken,
      variables: { input: { name: 'opening balance' } },
    });
    expect(created.createEntry.entry).toMatchObject({ name: 'opening balance', ownerId: account.userId });

    const read = await graphqlData<{ entry: { name: string } | null }>(gatewayUrl, `query($id: ID!) { entry(id: $id) { name } }`, {
      token: accessToken,
      variables: { id: created.createEntry.entry.id },
    });
    expect(read.entry).toEqual({ name: 'opening balance' });
    const listed = await graphqlData<{ entries: { totalCount: number; edges: { node: { id: string } }[] } }>(
      gatewayUrl,
      '{ entries(first: 5) { totalCount edges { node { id } } } }',
      { token: accessToken },
    );
    expect(listed.entries).toEqual({ totalCount: 1, edges: [{ node: { id: created.createEntry.entry.id } }] });

    const counted = await eventually('the consumer to count the created entry', async () => {
      const data = await graphqlData<{ entryCreatedCount: number }>(gatewayUrl, '{ entryCreatedCount }', { token: accessToken });
      return data.entryCreatedCount > 0 && data.entryCreatedCount;
    });
    expect(counted).toBe(1);

    const duplicate = await graphql(gatewayUrl, create, { token: accessToken, variables: { input: { name: 'opening balance' } } });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });
});
