// What tools/kafka and tools/opensearch share: a JVM service whose jars Maven resolves once into a
// cache, started as a child process that never outlives this Node process, and a CLI that serves
// until its parent goes away. Only node: built-ins, so it runs before/without `npm install`.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const COPY_DEPS = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies';
const OUTPUT_KEEP_LINES = 400; // raw JVM output kept for error messages (stack traces are long)

export function defaultCacheRoot() {
  return process.env.MULTIPULT_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'multipult');
}

/** A short hash of file contents: cache directories carry it so an edited pom or source is never served stale. */
export function contentHash(...texts) {
  const hash = crypto.createHash('sha256');
  for (const text of texts) hash.update(text);
  return hash.digest('hex').slice(0, 12);
}

/** A pom's `<name.version>` property, the single source of a tool's version. */
export function pomProperty(pomText, name, pomPath) {
  const escaped = name.replace(/\./g, '\\.');
  const value = new RegExp(`<${escaped}>\\s*([^<\\s]+)\\s*</${escaped}>`).exec(pomText)?.[1];
  if (!value) throw new Error(`no <${name}> in ${pomPath}`);
  return value;
}

const resolving = new Map(); // libsDir -> Promise, dedupes calls within one process

/**
 * Copies a pom's runtime jars into `libsDir` once (Maven's copy-dependencies into a temp dir,
 * renamed into place only when complete, under a lock that serialises concurrent processes);
 * resolves with `libsDir`.
 */
export function resolveMavenLibs({ tool, pom, libsDir, requiredJar }) {
  if (!resolving.has(libsDir)) {
    const resolved = doResolve({ tool, pom, libsDir, requiredJar });
    resolving.set(libsDir, resolved);
    resolved.catch(() => resolving.delete(libsDir)); // allow a retry after a failure
  }
  return resolving.get(libsDir);
}

async function doResolve({ tool, pom, libsDir, requiredJar }) {
  if (await isDir(libsDir)) return libsDir; // only ever created by an atomic rename
  await fsp.mkdir(path.dirname(libsDir), { recursive: true });
  return withLock(`${libsDir}.lock`, async () => {
    if (await isDir(libsDir)) return libsDir; // another process finished meanwhile
    const tmp = `${libsDir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    try {
      const res = await run(
        process.env.MVN ?? 'mvn',
        ['-B', '-q', '-f', pom, COPY_DEPS, `-DoutputDirectory=${tmp}`, '-DincludeScope=runtime'],
        { cwd: path.dirname(pom) },
      );
      if (res.code !== 0) {
        throw new Error(`${tool}: resolving jars with Maven failed (exit ${res.code}):\n${tail(res.output)}`);
      }
      if (!fs.existsSync(path.join(tmp, requiredJar))) throw new Error(`${tool}: Maven finished but ${requiredJar} is missing`);
      await renameIntoPlace(tmp, libsDir);
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
    return libsDir;
  });
}

/** Renames a completed temp directory to its final name; losing a race to another process is fine: theirs is complete too. */
export async function renameIntoPlace(tmp, finalDir) {
  try {
    await fsp.rename(tmp, finalDir);
  } catch (err) {
    if (!['EEXIST', 'ENOTEMPTY'].includes(err.code)) throw err;
  }
}

/** Runs `work` holding a mkdir-based lock; a lock whose owner pid is gone (or is very old) is broken. */
export async function withLock(lockDir, work, { staleMs = 15 * 60_000, pollMs = 250 } = {}) {
  for (;;) {
    try {
      await fsp.mkdir(lockDir);
      await fsp.writeFile(path.join(lockDir, 'owner'), `${process.pid}@${os.hostname()}`);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (await isStaleLock(lockDir, staleMs)) {
      await fsp.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    await sleep(pollMs);
  }
  try {
    return await work();
  } finally {
    await fsp.rm(lockDir, { recursive: true, force: true });
  }
}

async function isStaleLock(lockDir, staleMs) {
  try {
    const st = await fsp.stat(lockDir);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const owner = await fsp.readFile(path.join(lockDir, 'owner'), 'utf8').catch(() => null);
    if (!owner) return Date.now() - st.mtimeMs > 5_000; // owner file not written yet
    const [pid, host] = owner.split('@');
    return host === os.hostname() && !pidAlive(Number(pid));
  } catch {
    return false; // vanished: just retry mkdir
  }
}

/**
 * Spawns a JVM (no shell) whose stdout and stderr are always drained (a full pipe would block it),
 * keeping a tail for error messages. `stop()` ends it (SIGTERM, SIGKILL after a grace period) and
 * removes `ownedDir`; both also happen if this Node process exits without calling it.
 */
export function spawnJvm(args, { cwd, echo = false, ownedDir = null }) {
  const output = [];
  const child = spawn(javaBin(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (stream) => {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      if (echo) process.stderr.write(chunk);
      output.push(...chunk.split('\n').filter(Boolean));
      if (output.length > OUTPUT_KEEP_LINES * 1.5) output.splice(0, output.length - OUTPUT_KEEP_LINES);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => { output.push(String(err)); resolve({ code: -1, signal: null, err }); });
  });
  const exitHook = registerChild(child, ownedDir);
  let stopping;
  const stop = () => (stopping ??= (async () => {
    await terminate(child, exited);
    exitHook.unregister();
    if (ownedDir) await fsp.rm(ownedDir, { recursive: true, force: true, maxRetries: 3 });
  })());
  return { child, output, exited, stop };
}

/**
 * A tool's start, shared: prepares its working directory, spawns the JVM and waits until the probe
 * passes. On any failure the JVM is stopped (which removes a directory the tool owns) or, when it
 * never spawned, that directory is removed; the caller gets the running JVM otherwise.
 */
export async function launchJvmService({ workDir, ownsDir, prepare, javaArgs, echo, readiness, deadline, startTimeoutMs }) {
  let jvm;
  try {
    await prepare();
    jvm = spawnJvm(javaArgs, { cwd: workDir, echo, ownedDir: ownsDir ? workDir : null });
    await waitUntilReady({ ...readiness, exited: jvm.exited, deadline, output: jvm.output, startTimeoutMs });
    return jvm;
  } catch (err) {
    if (jvm) await jvm.stop();
    else if (ownsDir) await fsp.rm(workDir, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }
}

/**
 * Polls `probe` until it answers true (`notReady` says what a false answer means), failing early with the JVM's last output if it exits, or
 * at the deadline with the last probe error.
 */
export async function waitUntilReady({ tool, what, probe, notReady, exited, deadline, output, startTimeoutMs }) {
  let died = null;
  exited.then((e) => (died = e));
  let lastErr;
  while (Date.now() < deadline) {
    if (died) {
      throw new Error(`${tool}: ${what} exited before it was ready (code ${died.code}, signal ${died.signal}). Last output:\n${tail(output)}`);
    }
    try {
      if (await probe(Math.min(3_000, Math.max(100, deadline - Date.now())))) return;
      lastErr = new Error(notReady);
    } catch (err) {
      lastErr = err;
    }
    await Promise.race([sleep(150), exited]);
  }
  throw new Error(`${tool}: ${what} not ready after ${startTimeoutMs} ms (last probe: ${lastErr?.message}). Last output:\n${tail(output)}`);
}

/** SIGTERM (a clean shutdown), SIGKILL after the grace period. */
async function terminate(child, exited, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise((r) => (timer = setTimeout(() => r(true), graceMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

// Kill leftover JVMs when this Node process goes away without calling stop():
// on 'exit' and on fatal signals nobody else handles.
const liveChildren = new Map(); // child -> temp dir to remove (or null)
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAllSync() {
  for (const [child, dir] of liveChildren) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
    if (dir) try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ }
  }
  liveChildren.clear();
}

function onFatalSignal(signal) {
  // Someone else listens (e.g. our CLI, a test runner): they decide and will
  // call stop() or exit, which the 'exit' hook covers.
  if (process.listenerCount(signal) > 1) return;
  killAllSync();
  uninstallHooks();
  process.kill(process.pid, signal); // re-raise with the default action
}

function installHooks() {
  process.on('exit', killAllSync);
  for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
}

function uninstallHooks() {
  process.removeListener('exit', killAllSync);
  for (const s of FATAL_SIGNALS) process.removeListener(s, onFatalSignal);
}

function registerChild(child, dir) {
  if (liveChildren.size === 0) installHooks();
  liveChildren.set(child, dir);
  return {
    unregister() {
      if (liveChildren.delete(child) && liveChildren.size === 0) uninstallHooks();
    },
  };
}

/**
 * The CLI's `start`: prints `describe()` as one JSON line once the service is up, then serves until
 * SIGTERM/SIGINT/SIGHUP, its stdin (a pipe from the spawning parent) closing or its parent dying.
 */
export function serveUntilStopped({ tool, service, describe, verbose }) {
  let shuttingDown = false;
  const shutdown = async (why) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (verbose) process.stderr.write(`${tool}: stopping (${why})\n`);
    await service.stop();
    process.exit(0);
  };
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => shutdown(s));

  // Stdin closing means the spawning parent went away; only meaningful for a
  // pipe/socket (a TTY or /dev/null, as in CI, must not stop us).
  const stdin = fs.fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin error'));
    process.stdin.resume();
  }
  // Reparenting (to init or a subreaper) means our parent died.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) shutdown('parent exited'); }, 1_000);

  service.exited.then(({ code, signal }) => {
    if (shuttingDown) return;
    process.stderr.write(`${tool}: exited unexpectedly (code ${code}, signal ${signal})\n`);
    process.exit(1);
  });

  process.stdout.write(`${JSON.stringify(describe())}\n`);
}

/**
 * A CLI's `--name value` / `--name=value` flags: `integers` and `strings` name the flags taking a
 * value, `--verbose` is a switch; anything else is refused with the usage.
 */
export function parseCliFlags(argv, { integers = [], strings = [], usage }) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose') { flags.verbose = true; continue; }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || ![...integers, ...strings].includes(m[1])) throw new Error(`unknown argument: ${a}\n${usage}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value`);
    flags[m[1]] = strings.includes(m[1]) ? value : Number(value);
    if (integers.includes(m[1]) && !Number.isInteger(flags[m[1]])) throw new Error(`${a} needs an integer`);
  }
  return flags;
}

export function javaBin(name = 'java') {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', name) : name;
}

/** Free loopback ports, held open together so they are distinct. */
export async function pickPorts(...wanted) {
  const servers = [];
  try {
    return await Promise.all(wanted.map(async (p) => {
      if (p) return p;
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      return srv.address().port;
    }));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  }
}

export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const output = [];
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) s.on('data', (d) => output.push(d));
    child.once('error', (err) => resolve({
      code: -1,
      output: err.code === 'ENOENT' ? `${cmd} not found: install it or fix PATH (java/javac: JAVA_HOME, mvn: MVN)` : `${cmd}: ${err.message}`,
    }));
    child.once('close', (code) => resolve({ code, output: Buffer.concat(output).toString('utf8') }));
  });
}

/** Last lines of JVM output, minus stack frames so the exception messages show. */
export function tail(output, n = 25) {
  const lines = Array.isArray(output) ? output : String(output).split('\n');
  const last = lines.filter((l) => l.trim() && !/^\s+(at |\.\.\. \d+ more)/.test(l)).slice(-n);
  return last.length ? last.map((l) => `  | ${l}`).join('\n') : '  | (no output)';
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export async function isDir(p) {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
