import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { HUB_WORKER_DATA_KEY } from '@multipult/embedded';
import { InProcessTransport, serveEventTransport } from '@multipult/events';
import { MemoryFastStore, serveFastStore } from '@multipult/redis';
import { SERVICE_REGISTRY, SUBGRAPH_SERVICES } from '@multipult/registry';

/**
 * `npm start`: the whole platform on one machine with nothing configured. Each service runs in its
 * own worker thread (its own module graph, as in its own process); the main thread holds what the
 * services share: an embedded PostgreSQL unless DATABASE_URL is set, and — unless REDIS_URL /
 * KAFKA_BROKERS are set — one in-process store and one in-process event bus, reached by every
 * service through a MessagePort, so revocations and events cross services as with the real servers.
 * The services and their ports come from the service registry; MULTIPULT_PORT_BASE shifts them all.
 */

interface ServiceSpec {
  app: string;
  port: number;
  env: Record<string, string>;
  issuesTokens?: boolean;
}

function findWorkspaceRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
  }
  throw new Error('workspace root (nx.json) not found');
}

const workspaceRoot = findWorkspaceRoot(__dirname);
const basePort = Number(process.env.MULTIPULT_PORT_BASE ?? 4000);
/** Each service's /metrics listener: the conventional 9464 for the gateway, the next ports for the subgraphs. */
const metricsBasePort = Number(process.env.MULTIPULT_METRICS_PORT_BASE ?? 9464);

function log(message: string): void {
  process.stderr.write(`[multipult] ${message}\n`);
}

async function startDatabase(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  const dataDir = path.join(workspaceRoot, '.multipult/postgres');
  mkdirSync(path.dirname(dataDir), { recursive: true });
  const port = Number(process.env.MULTIPULT_POSTGRES_PORT ?? 54329);
  log(`starting embedded PostgreSQL on 127.0.0.1:${port}...`);
  const infrastructure = (await import(pathToFileURL(path.join(workspaceRoot, 'tools/testing/infrastructure.mjs')).href)) as {
    startEmbeddedPostgres(options: { port: number; persistentDir: string }): Promise<{ url: string; databaseDir: string; stop(): Promise<void> }>;
  };
  const postgres = await infrastructure.startEmbeddedPostgres({ port, persistentDir: dataDir });
  log(`PostgreSQL data in ${postgres.databaseDir}`);
  const client = new Client({ connectionString: postgres.url });
  await client.connect();
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = 'multipult'");
  if (!rowCount) await client.query('CREATE DATABASE multipult');
  await client.end();
  const url = new URL(postgres.url);
  url.pathname = '/multipult';
  return { url: url.toString(), stop: postgres.stop };
}

async function waitUntilReady(spec: ServiceSpec, worker: Worker): Promise<void> {
  let exited: number | undefined;
  worker.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${spec.app} stopped with exit code ${exited} before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${spec.port}/health/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${spec.app} was not ready within 120 s`);
}

function startWorker(spec: ServiceSpec, store: MemoryFastStore, bus: InProcessTransport): Worker {
  const entry = path.join(workspaceRoot, 'dist/apps', spec.app, 'apps', spec.app, 'src/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the services first`);
  const { port1: hubSide, port2: serviceSide } = new MessageChannel();
  serveFastStore(hubSide, store);
  serveEventTransport(hubSide, bus);
  const worker = new Worker(entry, {
    env: { ...process.env, ...spec.env, PORT: String(spec.port), METRICS_PORT: String(metricsBasePort + spec.port - basePort), HOST: '127.0.0.1' },
    workerData: { [HUB_WORKER_DATA_KEY]: serviceSide },
    transferList: [serviceSide],
  });
  worker.on('error', (error) => log(`${spec.app} failed: ${error.stack ?? error.message}`));
  return worker;
}

async function main(): Promise<void> {
  let database: Awaited<ReturnType<typeof startDatabase>>;
  try {
    database = await startDatabase();
  } catch (error) {
    // What to do, in one line; initdb's own output comes as several.
    log(`cannot start PostgreSQL: ${(error as Error).message.replace(/\s+/g, ' ').trim()}`);
    process.exit(1);
  }
  if (!process.env.REDIS_URL) log('REDIS_URL not set: one in-process store shared by the services (not for production)');
  if (!process.env.KAFKA_BROKERS) log('KAFKA_BROKERS not set: one in-process event bus (outbox rows still persist)');
  const store = new MemoryFastStore();
  const bus = new InProcessTransport();
  const portOf = (registryPort: number) => basePort + (registryPort - SERVICE_REGISTRY.gateway.port);
  // The registry starts with the one service that issues tokens.
  const jwksUrl = `http://127.0.0.1:${portOf(SUBGRAPH_SERVICES[0].port)}/.well-known/jwks.json`;
  const common = { NODE_ENV: process.env.NODE_ENV ?? 'development', DATABASE_URL: database.url, AUTH_JWKS_URL: jwksUrl };
  const subgraphs: ServiceSpec[] = SUBGRAPH_SERVICES.map((service) => ({
    app: service.name,
    port: portOf(service.port),
    env: common,
    issuesTokens: service.issuesTokens,
  }));
  const gateway: ServiceSpec = {
    app: SERVICE_REGISTRY.gateway.name,
    port: Number(process.env.PORT ?? basePort),
    env: { ...common, SUBGRAPHS: subgraphs.map((s) => `${s.app}=http://127.0.0.1:${s.port}/graphql`).join(',') },
  };

  const workers: Worker[] = [];
  const shutdown = async (reason: string, exitCode: number) => {
    log(`${reason}: stopping...`);
    await Promise.all(workers.map((worker) => worker.terminate()));
    await database.stop();
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));

  const run = async (spec: ServiceSpec) => {
    const worker = startWorker(spec, store, bus);
    workers.push(worker);
    await waitUntilReady(spec, worker);
    worker.once('exit', (code) => void shutdown(`${spec.app} exited with code ${code}`, 1));
  };
  try {
    // The token issuer first (the others fetch its keys), then the other subgraphs side by side, then the gateway.
    for (const spec of subgraphs.filter((s) => s.issuesTokens)) await run(spec);
    await Promise.all(subgraphs.filter((s) => !s.issuesTokens).map(run));
    await run(gateway);
  } catch (error) {
    log((error as Error).message);
    await shutdown('start-up failed', 1);
  }
  const url = `http://localhost:${gateway.port}/graphql`;
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

void main();
