import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { resolvePgClientTools, type PgClientTools } from './pg-client-tools';
import { connectionTo, runPipeline, runTool } from './processes';

export interface BackupProgress {
  schema: string;
  step: 'dump' | 'restore' | 'verify';
  done: number;
  total: number;
}

export interface SchemaBackup {
  schema: string;
  /** The dump's file name, relative to the backup directory. */
  file: string;
  bytes: number;
  sha256: string;
  /** Table -> row count at dump time (in the dump's own snapshot). */
  tables: Record<string, number>;
}

export interface BackupManifest {
  createdAt: string;
  serverVersion: string;
  schemas: SchemaBackup[];
}

export interface RowCountMismatch {
  schema: string;
  table: string;
  /** Rows in the manifest, -1 for a table the manifest does not list. */
  expected: number;
  /** Rows in the restored copy, -1 for a table missing there. */
  actual: number;
}

const MANIFEST_FILE = 'manifest.json';

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

async function withClient<T>(databaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function serverMajor(client: Client): Promise<number> {
  const { rows } = await client.query<{ version: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS version`);
  return rows[0].version;
}

async function toolsFor(client: Client): Promise<PgClientTools> {
  return resolvePgClientTools(await serverMajor(client));
}

/** The tables of a schema (partitioned parents included: their count covers their partitions). */
async function tablesOf(client: Client, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  return rows.map((row) => row.name);
}

async function rowCounts(client: Client, schema: string, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${quote(schema)}.${quote(table)}`);
    counts[table] = Number(rows[0].count);
  }
  return counts;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Dumps each schema (pg_dump -Fc -n <schema>) into `<directory>/<schema>.dump` and writes
 * manifest.json with each dump's size, sha256 and row count per table. The counts and every dump
 * come from one snapshot (exported by the counting transaction, imported by each pg_dump), so they
 * agree with each other even while the services write.
 */
export async function backupSchemas(options: {
  databaseUrl: string;
  schemas: string[];
  directory: string;
  onProgress?: (p: BackupProgress) => void;
}): Promise<BackupManifest> {
  const { databaseUrl, schemas, directory, onProgress } = options;
  if (schemas.length === 0) throw new Error('No schema to back up');
  await mkdir(directory, { recursive: true });
  return withClient(databaseUrl, async (client) => {
    const tools = await toolsFor(client);
    const { rows: missing } = await client.query<{ schema: string }>(
      `SELECT s AS schema FROM unnest($1::text[]) s WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s)`,
      [schemas],
    );
    if (missing.length) throw new Error(`No schema ${missing.map((row) => row.schema).join(', ')} in the database`);
    const { rows: version } = await client.query<{ server_version: string }>('SHOW server_version');
    const connection = connectionTo(databaseUrl);
    const createdAt = new Date().toISOString();
    const backups: SchemaBackup[] = [];
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const { rows: snapshot } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      for (const [index, schema] of schemas.entries()) {
        onProgress?.({ schema, step: 'dump', done: index, total: schemas.length });
        const tables = await rowCounts(client, schema, await tablesOf(client, schema));
        const file = `${schema}.dump`;
        const target = path.join(directory, file);
        await runTool(
          tools.pgDump,
          // Quoted: pg_dump reads -n as a pattern, where * ? and . would match more than this schema.
          ['--format=custom', `--schema=${quote(schema)}`, `--snapshot=${snapshot[0].id}`, `--file=${target}`, `--dbname=${connection.dbname}`],
          connection.env,
        );
        backups.push({ schema, file, bytes: (await stat(target)).size, sha256: await sha256Of(target), tables });
        onProgress?.({ schema, step: 'dump', done: index + 1, total: schemas.length });
      }
    } finally {
      // Read only: ending it either way just releases the snapshot.
      await client.query('COMMIT');
    }
    const manifest: BackupManifest = { createdAt, serverVersion: version[0].server_version, schemas: backups };
    await writeFile(path.join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  });
}

/** The manifest of a backup directory. */
export async function readManifest(directory: string): Promise<BackupManifest> {
  const text = await readFile(path.join(directory, MANIFEST_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`No backup in ${directory}: ${error.code === 'ENOENT' ? `${MANIFEST_FILE} is missing` : error.message}`);
  });
  return JSON.parse(text) as BackupManifest;
}

/** The manifest's entries for `schemas` (all when absent), each dump checked against its size and sha256. */
async function checkedBackups(directory: string, manifest: BackupManifest, schemas?: string[]): Promise<SchemaBackup[]> {
  const selected = schemas ?? manifest.schemas.map((backup) => backup.schema);
  const backups = selected.map((schema) => {
    const backup = manifest.schemas.find((entry) => entry.schema === schema);
    if (!backup) throw new Error(`The backup in ${directory} has no schema ${schema}`);
    return backup;
  });
  for (const backup of backups) {
    const file = path.join(directory, backup.file);
    const sha256 = await sha256Of(file).catch((error: Error) => {
      throw new Error(`${file} cannot be read: ${error.message}`);
    });
    if (sha256 !== backup.sha256) {
      throw new Error(`${file} is not the file the manifest describes (sha256 ${sha256}, expected ${backup.sha256}): refusing to restore it`);
    }
  }
  return backups;
}

/**
 * Replaces each schema with its dump, after checking every selected dump's sha256: per schema, one
 * psql transaction drops the schema (CASCADE) and replays pg_restore's script, so a schema is
 * either wholly restored or left as it was.
 */
export async function restoreSchemas(options: {
  databaseUrl: string;
  directory: string;
  schemas?: string[];
  onProgress?: (p: BackupProgress) => void;
}): Promise<{ schemas: string[] }> {
  const { databaseUrl, directory, onProgress } = options;
  const backups = await checkedBackups(directory, await readManifest(directory), options.schemas);
  const tools = await withClient(databaseUrl, toolsFor);
  const connection = connectionTo(databaseUrl);
  for (const [index, backup] of backups.entries()) {
    onProgress?.({ schema: backup.schema, step: 'restore', done: index, total: backups.length });
    await runPipeline(
      { command: tools.pgRestore, args: ['--file=-', path.join(directory, backup.file)] },
      {
        command: tools.psql,
        args: [
          '--no-psqlrc',
          '--quiet',
          '--single-transaction',
          '--set=ON_ERROR_STOP=1',
          `--command=DROP SCHEMA IF EXISTS ${quote(backup.schema)} CASCADE`,
          '--file=-',
          `--dbname=${connection.dbname}`,
        ],
      },
      connection.env,
    );
    onProgress?.({ schema: backup.schema, step: 'restore', done: index + 1, total: backups.length });
  }
  return { schemas: backups.map((backup) => backup.schema) };
}

/**
 * Proves a backup restores: checks the dumps' sha256, restores every schema into a fresh scratch
 * database on the same server (with the source database's extensions, which live outside the
 * dumped schemas), compares each table's row count with the manifest, and drops the scratch database.
 */
export async function verifyBackup(options: {
  databaseUrl: string;
  directory: string;
  onProgress?: (p: BackupProgress) => void;
}): Promise<{ ok: boolean; scratchDatabase: string; mismatches: RowCountMismatch[] }> {
  const { databaseUrl, directory, onProgress } = options;
  const manifest = await readManifest(directory);
  const backups = await checkedBackups(directory, manifest);
  const restoredSchemas = new Set(backups.map((backup) => backup.schema));
  const { tools, extensions, scratchDatabase } = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ name: string; schema: string }>(
      `SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'`,
    );
    const { rows: database } = await client.query<{ name: string }>('SELECT current_database() AS name');
    const scratch = `${database[0].name.slice(0, 30)}_verify_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const resolved = await toolsFor(client);
    await client.query(`CREATE DATABASE ${quote(scratch)}`);
    return { tools: resolved, extensions: rows.filter((extension) => !restoredSchemas.has(extension.schema)), scratchDatabase: scratch };
  });
  try {
    const scratchUrl = new URL(databaseUrl);
    scratchUrl.pathname = `/${encodeURIComponent(scratchDatabase)}`;
    await withClient(scratchUrl.toString(), async (client) => {
      for (const extension of extensions) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(extension.schema)}`);
        await client.query(`CREATE EXTENSION IF NOT EXISTS ${quote(extension.name)} WITH SCHEMA ${quote(extension.schema)}`);
      }
    });
    const connection = connectionTo(databaseUrl, scratchDatabase);
    for (const [index, backup] of backups.entries()) {
      onProgress?.({ schema: backup.schema, step: 'restore', done: index, total: backups.length });
      await runTool(
        tools.pgRestore,
        ['--single-transaction', '--exit-on-error', `--dbname=${connection.dbname}`, path.join(directory, backup.file)],
        connection.env,
      );
      onProgress?.({ schema: backup.schema, step: 'restore', done: index + 1, total: backups.length });
    }
    const mismatches: RowCountMismatch[] = [];
    await withClient(scratchUrl.toString(), async (client) => {
      for (const [index, backup] of backups.entries()) {
        onProgress?.({ schema: backup.schema, step: 'verify', done: index, total: backups.length });
        const restoredTables = await tablesOf(client, backup.schema);
        const actual = await rowCounts(client, backup.schema, restoredTables);
        for (const [table, expected] of Object.entries(backup.tables)) {
          const rows = actual[table] ?? -1;
          if (rows !== expected) mismatches.push({ schema: backup.schema, table, expected, actual: rows });
        }
        for (const table of restoredTables) {
          if (!(table in backup.tables)) mismatches.push({ schema: backup.schema, table, expected: -1, actual: actual[table] });
        }
        onProgress?.({ schema: backup.schema, step: 'verify', done: index + 1, total: backups.length });
      }
    });
    return { ok: mismatches.length === 0, scratchDatabase, mismatches };
  } finally {
    await withClient(databaseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quote(scratchDatabase)} WITH (FORCE)`));
  }
}
