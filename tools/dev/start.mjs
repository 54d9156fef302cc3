// `npm start`: the whole platform on one machine with nothing configured.
// PostgreSQL: DATABASE_URL, else an embedded PostgreSQL kept in .multipult/postgres.
// Redis and Kafka: REDIS_URL / KAFKA_BROKERS when set, else in-process stand-ins. Every service
// runs in this one process, so the stand-ins are shared between them like the real servers would be.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from '../testing/infrastructure.mjs';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** Services in start order: subgraphs first, the gateway last (it composes from them). */
const SUBGRAPHS = [{ name: 'auth', port: 4001 }];
const GATEWAY_PORT = Number(process.env.PORT ?? 4000);

function log(message) {
  process.stderr.write(`[multipult] ${message}\n`);
}

function build() {
  log('building services (cached when unchanged)...');
  const projects = [...SUBGRAPHS.map((s) => s.name), 'gateway'].join(',');
  const result = spawnSync(path.join(workspaceRoot, 'node_modules/.bin/nx'), ['run-many', '-t', 'build', '-p', projects, '--outputStyle=static'], {
    cwd: workspaceRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error('build failed (run `npx nx run-many -t build` to see why)');
}

async function ensureDatabase(serverUrl, name) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function startDatabase() {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const dataDir = path.join(workspaceRoot, '.multipult/postgres');
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const port = Number(process.env.MULTIPULT_POSTGRES_PORT ?? 54329);
  log(`starting embedded PostgreSQL on 127.0.0.1:${port} (data in .multipult/postgres)...`);
  const postgres = await startEmbeddedPostgres({ port, persistentDir: dataDir });
  return { url: await ensureDatabase(postgres.url, 'multipult'), stop: postgres.stop };
}

function startService(app, env) {
  const entry = path.join(workspaceRoot, 'dist/apps', app, 'apps', app, 'src/main.js');
  return require(entry).start(env);
}

async function main() {
  build();
  const database = await startDatabase();
  const running = [];
  const shutdown = async (signal) => {
    log(`${signal}: stopping...`);
    for (const app of running.reverse()) await app.close().catch(() => undefined);
    await database.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (!process.env.REDIS_URL) log('REDIS_URL not set: in-process store (single process only)');
  if (!process.env.KAFKA_BROKERS) log('KAFKA_BROKERS not set: in-process events (outbox rows still persist)');
  const common = { NODE_ENV: 'development', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...process.env, HOST: '127.0.0.1' };
  for (const subgraph of SUBGRAPHS) {
    running.push(await startService(subgraph.name, { ...common, DATABASE_URL: database.url, PORT: String(subgraph.port) }));
  }
  running.push(
    await startService('gateway', {
      ...common,
      PORT: String(GATEWAY_PORT),
      SUBGRAPHS: SUBGRAPHS.map((s) => `${s.name}=http://127.0.0.1:${s.port}/graphql`).join(','),
      AUTH_JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
    }),
  );
  const url = `http://localhost:${GATEWAY_PORT}/graphql`;
  process.stdout.write(
    [
      '',
      `Multipult is running. Gateway: ${url}`,
      'Try:',
      `  curl -s ${url} -H 'content-type: application/json' \\`,
      `    -d '{"query":"mutation { register(input: {email: \\"you@example.com\\", password: \\"a long passphrase 1\\", displayName: \\"You\\"}) { accessToken user { id } } }"}'`,
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  log(`failed to start: ${error.stack ?? error}`);
  process.exit(1);
});
