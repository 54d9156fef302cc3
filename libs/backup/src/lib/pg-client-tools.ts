import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** pg_dump, pg_restore and psql of one installation (commands to spawn: paths, or bare names found on PATH). */
export interface PgClientTools {
  pgDump: string;
  pgRestore: string;
  psql: string;
  /** The major version pg_dump reports. */
  major: number;
}

/** Where tools/pg-binaries unpacks the client tools of each major version. */
function fetchedBinDirs(): string[] {
  const root = path.join(process.env.MULTIPULT_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'multipult'), 'pg-binaries');
  return majorsIn(root).map((major) => path.join(root, String(major), 'bin'));
}

/** Debian's and Ubuntu's postgresql-client-<major> packages. */
function installedBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  return majorsIn(root).map((major) => path.join(root, String(major), 'bin'));
}

/** The numeric subdirectories of a directory, highest first. */
function majorsIn(root: string): number[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => b - a);
}

function toolsIn(binDir: string | undefined): Omit<PgClientTools, 'major'> {
  const tool = (name: string) => (binDir ? path.join(binDir, name) : name);
  return { pgDump: tool('pg_dump'), pgRestore: tool('pg_restore'), psql: tool('psql') };
}

/** The major version of a pg_dump, or undefined when it does not run. */
async function pgDumpMajor(pgDump: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(pgDump, ['--version']);
    const major = /\(PostgreSQL\)\s+(\d+)/.exec(stdout)?.[1];
    return major ? Number(major) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client tools to dump and restore a server of `serverMajor` with (pg_dump refuses a server
 * newer than itself): PG_BIN_DIR when set (and only it), otherwise the first new enough of those
 * fetched by tools/pg-binaries, those installed under /usr/lib/postgresql, and those on PATH.
 */
export async function resolvePgClientTools(serverMajor: number): Promise<PgClientTools> {
  const fetchHint = `node tools/pg-binaries/pg-binaries.mjs fetch ${serverMajor}`;
  const configured = process.env.PG_BIN_DIR;
  if (configured) {
    const tools = toolsIn(configured);
    const major = await pgDumpMajor(tools.pgDump);
    if (major === undefined) throw new Error(`PG_BIN_DIR=${configured} has no pg_dump that runs: point it at the bin directory of PostgreSQL ${serverMajor}+ client tools`);
    if (major < serverMajor) {
      throw new Error(`pg_dump ${major} in PG_BIN_DIR=${configured} is older than the PostgreSQL ${serverMajor} server: point PG_BIN_DIR at PostgreSQL ${serverMajor}+ client tools`);
    }
    return { ...tools, major };
  }
  const found: string[] = [];
  for (const binDir of [...fetchedBinDirs(), ...installedBinDirs(), undefined]) {
    const tools = toolsIn(binDir);
    const major = await pgDumpMajor(tools.pgDump);
    if (major === undefined) continue;
    if (major >= serverMajor) return { ...tools, major };
    found.push(`${major} (${binDir ?? 'PATH'})`);
  }
  const what = found.length ? `only pg_dump ${found.join(', ')}, older than` : 'no pg_dump for';
  throw new Error(`There is ${what} the PostgreSQL ${serverMajor} server: run \`${fetchHint}\` or set PG_BIN_DIR to PostgreSQL ${serverMajor}+ client tools`);
}
