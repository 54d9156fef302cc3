import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { createProgram } from '../program';

/** Runs a command in-process as `multipult …` against `databaseUrl`; answers the JSON objects it printed. */
async function multipult(databaseUrl: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const serverUrl = process.env.DATABASE_URL;
  process.env.DATABASE_URL = databaseUrl;
  try {
    const printed: Record<string, unknown>[] = [];
    await createProgram((result) => printed.push(result as Record<string, unknown>)).parseAsync(['node', 'multipult', ...args]);
    return printed;
  } finally {
    process.env.DATABASE_URL = serverUrl;
  }
}

describe('backup, backup verify and restore on a real PostgreSQL', () => {
  let database: TestDatabase;
  let client: Client;
  let directory: string;
  const count = async (table: string) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  beforeAll(async () => {
    database = await createTestDatabase('cli_backup');
    client = new Client({ connectionString: database.url });
    await client.connect();
    // Two services' schemas, as their migrations would leave them (much smaller).
    await client.query(`
      CREATE SCHEMA auth; CREATE TABLE auth.users (id serial PRIMARY KEY, email text NOT NULL);
      INSERT INTO auth.users (email) SELECT 'user' || n || '@example.com' FROM generate_series(1, 25) n;
      CREATE SCHEMA content; CREATE TABLE content.documents (id serial PRIMARY KEY, title text NOT NULL);
      INSERT INTO content.documents (title) VALUES ('One'), ('Two');`);
    directory = await mkdtemp(path.join(os.tmpdir(), 'multipult-cli-backup-'));
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
    await rm(directory, { recursive: true, force: true });
  });

  it('backs up the chosen services’ schemas, proves the backup restores, and restores one service', async () => {
    const [backedUp] = await multipult(database.url, 'backup', '--out', directory, '--service', 'auth', 'content');
    expect(backedUp).toMatchObject({ backedUp: true, directory });
    expect(backedUp.schemas).toEqual([
      expect.objectContaining({ schema: 'auth', tables: { users: 25 } }),
      expect.objectContaining({ schema: 'content', tables: { documents: 2 } }),
    ]);
    expect(await multipult(database.url, 'backup', 'verify', '--from', directory)).toEqual([{ verified: true, directory }]);

    await client.query(`DELETE FROM auth.users WHERE id > 5; INSERT INTO content.documents (title) VALUES ('Three')`);
    expect(await multipult(database.url, 'restore', '--from', directory, '--service', 'auth')).toEqual([{ restored: true, directory, schemas: ['auth'] }]);
    expect(await count('auth.users')).toBe(25);
    // Only the chosen service's schema was replaced.
    expect(await count('content.documents')).toBe(3);
  });

  it('refuses a backup whose dump was changed, naming the file', async () => {
    const tampered = await mkdtemp(path.join(os.tmpdir(), 'multipult-cli-backup-'));
    try {
      await multipult(database.url, 'backup', '--out', tampered, '--service', 'content');
      await writeFile(path.join(tampered, 'content.dump'), 'not a dump');
      await expect(multipult(database.url, 'backup', 'verify', '--from', tampered)).rejects.toThrow(`${path.join(tampered, 'content.dump')} is not the file the manifest describes`);
    } finally {
      await rm(tampered, { recursive: true, force: true });
    }
  });

  it('names a directory without a backup', async () => {
    await expect(multipult(database.url, 'restore', '--from', path.join(directory, 'missing'))).rejects.toThrow('No backup in');
  });
});
