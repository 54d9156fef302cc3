import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@multipult/testing';
import { backupSchemas, readManifest, restoreSchemas, verifyBackup, type BackupProgress } from './backup';
import { resolvePgClientTools } from './pg-client-tools';

const SCHEMAS = ['backup_library', 'backup_archive'];
const LARGE_TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(40_000); // ~1.8 MB, stored out of line (TOAST)
const BLOB = randomBytes(300_000);

let database: TestDatabase;
let client: Client;
let workDir: string;

/** The client tools for the test server, fetched by tools/pg-binaries when the machine has none new enough. */
async function ensureClientTools(): Promise<void> {
  const { rows } = await client.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
  const major = rows[0].major;
  try {
    await resolvePgClientTools(major);
  } catch {
    const fetcher = path.resolve(__dirname, '../../../../tools/pg-binaries/pg-binaries.mjs');
    execFileSync(process.execPath, [fetcher, 'fetch', String(major)], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  }
}

/** Each table's rows in a canonical text form: equal fingerprints mean equal data. */
async function fingerprint(): Promise<Record<string, string>> {
  const tables = ['backup_library.author', 'backup_library.book', 'backup_archive.blob'];
  const result: Record<string, string> = {};
  for (const table of tables) {
    const { rows } = await client.query<{ digest: string; count: string }>(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS digest, count(*) AS count FROM ${table} t`,
    );
    result[table] = `${rows[0].count}:${rows[0].digest}`;
  }
  return result;
}

async function createSchemas(): Promise<void> {
  await client.query(`
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    CREATE SCHEMA backup_library;
    CREATE TYPE backup_library.genre AS ENUM ('novel', 'poetry', 'essay');
    CREATE SEQUENCE backup_library.shelf_number START 100;
    CREATE TABLE backup_library.author (id bigserial PRIMARY KEY, name text NOT NULL);
    CREATE TABLE backup_library.book (
      id bigserial PRIMARY KEY,
      author_id bigint NOT NULL REFERENCES backup_library.author (id) ON DELETE CASCADE,
      title text NOT NULL,
      genre backup_library.genre NOT NULL,
      shelf int NOT NULL DEFAULT nextval('backup_library.shelf_number'),
      body text
    );
    CREATE INDEX book_title_trgm ON backup_library.book USING gin (title public.gin_trgm_ops);
    CREATE SCHEMA backup_archive;
    CREATE TABLE backup_archive.blob (id int PRIMARY KEY, content bytea NOT NULL, note text);
  `);
  await client.query(`INSERT INTO backup_library.author (name) SELECT 'author ' || i FROM generate_series(1, 50) i`);
  await client.query(
    `INSERT INTO backup_library.book (author_id, title, genre, body)
     SELECT 1 + i % 50, 'title ' || i, (ARRAY['novel','poetry','essay'])[1 + i % 3]::backup_library.genre, CASE WHEN i = 7 THEN $1 END
       FROM generate_series(1, 500) i`,
    [LARGE_TEXT],
  );
  await client.query(`INSERT INTO backup_archive.blob (id, content, note) VALUES (1, $1, 'random'), (2, '\\x00ff'::bytea, NULL)`, [BLOB]);
}

beforeAll(async () => {
  database = await createTestDatabase('backup');
  client = new Client({ connectionString: database.url });
  await client.connect();
  await ensureClientTools();
  await createSchemas();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'multipult-backup-spec-'));
}, 360_000);

afterAll(async () => {
  await client?.end();
  await database?.drop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('backupSchemas and restoreSchemas', () => {
  it('dumps each schema with exact row counts, and restores dropped schemas to the same data', async () => {
    const directory = path.join(workDir, 'round-trip');
    const before = await fingerprint();
    const progress: BackupProgress[] = [];
    const manifest = await backupSchemas({ databaseUrl: database.url, schemas: SCHEMAS, directory, onProgress: (p) => progress.push(p) });

    expect(manifest.serverVersion).toMatch(/^\d+/);
    expect(manifest.schemas.map((backup) => backup.schema)).toEqual(SCHEMAS);
    expect(manifest.schemas[0]).toMatchObject({ file: 'backup_library.dump', tables: { author: 50, book: 500 } });
    expect(manifest.schemas[1]).toMatchObject({ file: 'backup_archive.dump', tables: { blob: 2 } });
    expect(manifest.schemas.every((backup) => backup.bytes > 0 && /^[0-9a-f]{64}$/.test(backup.sha256))).toBe(true);
    expect(await readManifest(directory)).toEqual(manifest);
    expect(progress.at(-1)).toEqual({ schema: 'backup_archive', step: 'dump', done: 2, total: 2 });

    await client.query('DROP SCHEMA backup_library CASCADE; DROP SCHEMA backup_archive CASCADE');
    const restoreProgress: BackupProgress[] = [];
    await expect(restoreSchemas({ databaseUrl: database.url, directory, onProgress: (p) => restoreProgress.push(p) })).resolves.toEqual({
      schemas: SCHEMAS,
    });

    expect(await fingerprint()).toEqual(before);
    expect(restoreProgress.at(-1)).toEqual({ schema: 'backup_archive', step: 'restore', done: 2, total: 2 });
    const { rows: large } = await client.query<{ body: string }>(`SELECT body FROM backup_library.book WHERE title = 'title 7'`);
    expect(large[0].body).toBe(LARGE_TEXT);
    const { rows: blob } = await client.query<{ content: Buffer }>('SELECT content FROM backup_archive.blob WHERE id = 1');
    expect(blob[0].content.equals(BLOB)).toBe(true);
    // Sequences carry on where they were; the enum and the foreign key are back.
    const { rows: next } = await client.query<{ shelf: number; id: string }>(
      `INSERT INTO backup_library.book (author_id, title, genre) VALUES (3, 'after restore', 'essay') RETURNING shelf, id`,
    );
    expect(next[0]).toEqual({ shelf: 600, id: '501' });
    await expect(client.query(`INSERT INTO backup_library.book (author_id, title, genre) VALUES (999, 'orphan', 'novel')`)).rejects.toThrow(
      /foreign key/,
    );
    await expect(client.query(`INSERT INTO backup_library.book (author_id, title, genre) VALUES (1, 'x', 'comic')`)).rejects.toThrow(
      /invalid input value for enum/,
    );
    const { rows: plan } = await client.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'book_title_trgm'`);
    expect(plan[0].indexdef).toContain('gin_trgm_ops');
  });

  it('replaces a schema that changed since the backup: later rows and tables are gone', async () => {
    const directory = path.join(workDir, 'replace');
    await backupSchemas({ databaseUrl: database.url, schemas: ['backup_archive'], directory });
    const before = await fingerprint();
    await client.query(`INSERT INTO backup_archive.blob (id, content) VALUES (3, '\\x01'); CREATE TABLE backup_archive.later (id int)`);

    await restoreSchemas({ databaseUrl: database.url, directory, schemas: ['backup_archive'] });

    expect(await fingerprint()).toEqual(before);
    const { rows } = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'backup_archive' AND tablename = 'later'`);
    expect(rows).toHaveLength(0);
  });

  it('counts rows in the snapshot it dumps, so the manifest matches the dump while rows are being written', async () => {
    const directory = path.join(workDir, 'under-writes');
    const writer = new Client({ connectionString: database.url });
    await writer.connect();
    let writing = true;
    let written = 0;
    const writes = (async () => {
      for (let i = 0; writing && i < 100_000; i++) {
        await writer.query(`INSERT INTO backup_library.author (name) VALUES ('concurrent ' || $1::int)`, [i]);
        written++;
      }
    })();
    try {
      const until = Date.now() + 10_000;
      while (written < 20 && Date.now() < until) await new Promise((resolve) => setImmediate(resolve));
      await backupSchemas({ databaseUrl: database.url, schemas: SCHEMAS, directory });
    } finally {
      writing = false;
      await writes;
      await writer.end();
    }
    const writtenDuringBackup = written;
    expect(writtenDuringBackup).toBeGreaterThan(20);
    const result = await verifyBackup({ databaseUrl: database.url, directory });
    expect(result).toMatchObject({ ok: true, mismatches: [] });
  });
});

describe('verifyBackup', () => {
  it('restores into a scratch database, finds the manifest counts there, and drops the scratch database', async () => {
    const directory = path.join(workDir, 'verify');
    await backupSchemas({ databaseUrl: database.url, schemas: SCHEMAS, directory });
    const steps = new Set<string>();

    const result = await verifyBackup({ databaseUrl: database.url, directory, onProgress: (p) => steps.add(p.step) });

    expect(result).toEqual({ ok: true, scratchDatabase: expect.stringContaining('_verify_'), mismatches: [] });
    expect([...steps]).toEqual(['restore', 'verify']);
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [result.scratchDatabase]);
    expect(rows).toHaveLength(0);
  });

  it('reports a table whose count differs from the manifest', async () => {
    const directory = path.join(workDir, 'edited-manifest');
    await backupSchemas({ databaseUrl: database.url, schemas: SCHEMAS, directory });
    const manifestFile = path.join(directory, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const actualBooks = manifest.schemas[0].tables.book;
    manifest.schemas[0].tables.book = actualBooks + 5;
    manifest.schemas[0].tables.vanished = 3;
    await writeFile(manifestFile, JSON.stringify(manifest));

    const result = await verifyBackup({ databaseUrl: database.url, directory });

    expect(result.ok).toBe(false);
    expect(result.mismatches).toEqual([
      { schema: 'backup_library', table: 'book', expected: actualBooks + 5, actual: actualBooks },
      { schema: 'backup_library', table: 'vanished', expected: 3, actual: -1 },
    ]);
  });
});

describe('integrity', () => {
  it('refuses to restore a dump whose sha256 differs from the manifest, before touching any schema', async () => {
    const directory = path.join(workDir, 'tampered');
    await backupSchemas({ databaseUrl: database.url, schemas: SCHEMAS, directory });
    const dump = path.join(directory, 'backup_archive.dump');
    const bytes = await readFile(dump);
    bytes[bytes.length - 10] ^= 0xff;
    await writeFile(dump, bytes);
    await client.query(`INSERT INTO backup_library.author (name) VALUES ('written after the backup')`);
    const before = await fingerprint();

    await expect(restoreSchemas({ databaseUrl: database.url, directory })).rejects.toThrow(
      /backup_archive\.dump is not the file the manifest describes \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\): refusing to restore it/,
    );
    await expect(verifyBackup({ databaseUrl: database.url, directory })).rejects.toThrow(/refusing to restore it/);

    // backup_library comes first and its dump is intact: it was not restored either.
    expect(await fingerprint()).toEqual(before);
  });

  it('leaves a schema as it was when its dump breaks off midway (the drop is rolled back with the restore)', async () => {
    const directory = path.join(workDir, 'truncated');
    await backupSchemas({ databaseUrl: database.url, schemas: ['backup_library'], directory });
    await client.query(`INSERT INTO backup_library.author (name) VALUES ('written after the backup')`);
    const before = await fingerprint();
    // A dump cut short, with a manifest that agrees with it: pg_restore fails while writing the data.
    const dump = path.join(directory, 'backup_library.dump');
    const whole = await readFile(dump);
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.7));
    await writeFile(dump, truncated);
    const manifest = await readManifest(directory);
    manifest.schemas[0].sha256 = createHash('sha256').update(truncated).digest('hex');
    await writeFile(path.join(directory, 'manifest.json'), JSON.stringify(manifest));

    await expect(restoreSchemas({ databaseUrl: database.url, directory })).rejects.toThrow(/pg_restore failed/);

    expect(await fingerprint()).toEqual(before);
  });
});

describe('resolvePgClientTools', () => {
  const configured = process.env.PG_BIN_DIR;
  afterEach(() => {
    if (configured === undefined) delete process.env.PG_BIN_DIR;
    else process.env.PG_BIN_DIR = configured;
  });

  it('refuses, in one line, a pg_dump older than the server', async () => {
    const binDir = await mkdtemp(path.join(workDir, 'old-bin-'));
    await writeFile(path.join(binDir, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"\n', { mode: 0o755 });
    process.env.PG_BIN_DIR = binDir;

    const refusal = resolvePgClientTools(18);

    await expect(refusal).rejects.toThrow(`pg_dump 15 in PG_BIN_DIR=${binDir} is older than the PostgreSQL 18 server`);
    await expect(refusal.catch((error: Error) => error.message)).resolves.not.toContain('\n');
  });

  it('takes PG_BIN_DIR first when it is new enough', async () => {
    const binDir = await mkdtemp(path.join(workDir, 'new-bin-'));
    await writeFile(path.join(binDir, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 19.1"\n', { mode: 0o755 });
    process.env.PG_BIN_DIR = binDir;

    await expect(resolvePgClientTools(18)).resolves.toEqual({
      pgDump: path.join(binDir, 'pg_dump'),
      pgRestore: path.join(binDir, 'pg_restore'),
      psql: path.join(binDir, 'psql'),
      major: 19,
    });
  });
});
