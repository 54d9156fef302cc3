import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SUBGRAPH_SERVICES } from '@multipult/registry';
import { createTestDatabase, workspaceRoot } from '@multipult/testing';

const run = promisify(execFile);

async function startWith(app: string, env: Record<string, string>, args: string[] = []) {
  const entry = path.join(workspaceRoot(), 'dist/apps', app, 'apps', app, 'src/main.js');
  return run(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }).catch(
    (error: { code: number; stderr: string }) => error,
  );
}

describe('start-up configuration checks', () => {
  it('stops auth with one line naming every wrong variable', async () => {
    const result = await startWith('auth', { DATABASE_URL: 'mysql://db/app', PORT: 'eighty', ARGON2_TIME_COST: '0' });
    expect(result).toMatchObject({ code: 1 });
    const lines = (result as { stderr: string }).stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^auth: Invalid configuration: /);
    for (const variable of ['DATABASE_URL', 'PORT', 'ARGON2_TIME_COST']) expect(lines[0]).toContain(variable);
  });

  it('refuses to run auth in production without Redis, Kafka, an email token seal key, a signing key secret, a file link secret and an internal secret', async () => {
    const result = await startWith('auth', { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/app' });
    expect((result as { stderr: string }).stderr.trim()).toBe(
      'auth: Invalid configuration: REDIS_URL is required in production; KAFKA_BROKERS is required in production; ' +
        'EMAIL_TOKEN_SEAL_KEY must be set to a secret of your own in production; SIGNING_KEY_SECRET must be set in production; ' +
        'FILE_LINK_SECRET must be set in production; INTERNAL_API_SECRET must be set in production',
    );
  });

  it('stops the gateway when it has no supergraph source', async () => {
    const result = await startWith('gateway', { AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' });
    expect(result).toMatchObject({ code: 1, stderr: 'gateway: Invalid configuration: SUPERGRAPH_PATH or SUBGRAPHS is required\n' });
  });

  it('`main.js migrate` applies each subgraph\'s migrations once and exits, as the Helm migration Job runs it', async () => {
    const database = await createTestDatabase('migrate');
    try {
      const env = { DATABASE_URL: database.url, AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json' };
      for (const service of SUBGRAPH_SERVICES) {
        const first = (await startWith(service.name, env, ['migrate'])) as { stdout: string; stderr: string; code?: number };
        expect({ service: service.name, code: first.code, applied: /applied \d+ migration\(s\)/.test(first.stdout) }).toEqual({
          service: service.name,
          code: undefined,
          applied: true,
        });
        const second = (await startWith(service.name, env, ['migrate'])) as { stdout: string; code?: number };
        expect(second.code).toBeUndefined();
        expect(second.stdout).toContain(`schema ${service.schema} is current`);
      }
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ schema: string; migrations: string }>(
          `SELECT table_schema AS schema, count(*)::text AS migrations FROM information_schema.tables WHERE table_name = 'migrations' GROUP BY table_schema`,
        );
        expect(rows.map((row) => row.schema).sort()).toEqual(SUBGRAPH_SERVICES.map((service) => service.schema).sort());
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });

  it('refuses an unknown command with the ones it knows', async () => {
    const result = await startWith('content', {}, ['migrat']);
    expect(result).toMatchObject({ code: 2, stderr: 'content: unknown command migrat; commands: migrate\n' });
  });
});
