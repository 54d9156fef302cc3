import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { workspaceRoot } from '@multipult/testing';

const run = promisify(execFile);

async function startWith(app: string, env: Record<string, string>) {
  const entry = path.join(workspaceRoot(), 'dist/apps', app, 'apps', app, 'src/main.js');
  return run(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }).catch(
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
});
