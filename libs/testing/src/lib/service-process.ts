import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('workspace root (nx.json) not found');
    dir = parent;
  }
  return dir;
}

/** Where the kernel picks ports for outgoing connections (and for listen(0)); freePort stays below it. */
function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

const LOWEST_TEST_PORT = 10_000;
/** Ports handed out by any test process on this machine: one file per port (tools/testing/infrastructure.mjs shares it). */
const PORT_LEASES_DIR = path.join(os.tmpdir(), 'multipult-test-ports');
/** Longer than any service takes to bind the port it was given. */
const PORT_LEASE_MS = 10 * 60_000;
const portsHandedOut = new Set<number>();

/** Claims `port` for this process unless another holds a lease on it younger than PORT_LEASE_MS. */
function leasePort(port: number): boolean {
  mkdirSync(PORT_LEASES_DIR, { recursive: true });
  const lease = path.join(PORT_LEASES_DIR, String(port));
  try {
    writeFileSync(lease, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lease).mtimeMs < PORT_LEASE_MS) return false;
      writeFileSync(lease, String(process.pid));
      return true;
    } catch {
      return false;
    }
  }
}

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port free now, for a process started later. Taken below the kernel's ephemeral range: a port
 * from listen(0) lies inside it, and until the process binds it, any outgoing connection (a pool's
 * connection, a fetch) may take it as its local port, which CI saw as EADDRINUSE and as a health
 * check answered by another shard's service. Random in the range, never handed out twice by this
 * process, and leased across processes (parallel shards start services concurrently).
 */
export async function freePort(): Promise<number> {
  const top = Math.max(LOWEST_TEST_PORT + 1_000, ephemeralRangeStart());
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = LOWEST_TEST_PORT + Math.floor(Math.random() * (top - LOWEST_TEST_PORT));
    if (portsHandedOut.has(port) || !leasePort(port)) continue;
    portsHandedOut.add(port);
    if (await listensOn(port)) return port;
  }
  throw new Error(`no free port found in ${LOWEST_TEST_PORT}-${top - 1} after 100 tries`);
}

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  /** Where its Prometheus `/metrics` is served (METRICS_PORT, apart from the public port). */
  metricsUrl: string;
  /** The OS process id (for resource readings such as /proc/<pid>/status). */
  pid: number;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** How the process ended (its exit code, or the signal that ended it); undefined while it runs. */
  exitStatus(): string | undefined;
  stop(): Promise<void>;
  /** Sends SIGKILL without waiting (for process exit handlers, where nothing asynchronous runs). */
  kill(): void;
}

/**
 * Runs a built app (`dist/apps/<app>`) as a real process, as production would, and waits until
 * its readiness endpoint answers 200. Its output is kept for assertions and failure messages.
 */
export async function startServiceProcess(options: {
  app: string;
  port?: number;
  env: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** The workspace whose dist/ holds the app (a scratch workspace in generator tests); this one by default. */
  root?: string;
}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const metricsPort = options.env.METRICS_PORT ?? String(await freePort());
  const entry = path.join(options.root ?? workspaceRoot(), 'dist/apps', options.app, 'apps', options.app, 'src/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the app first (nx build ${options.app})`);
  const chunks: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', NODE_ENV: 'test', ...options.env, PORT: String(port), METRICS_PORT: metricsPort, HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${options.app} exited with ${child.exitCode} before it was ready:\n${chunks.join('').slice(-4000)}`);
    }
    const ready = await fetch(`${url}/health/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) {
      return {
        name: options.app,
        url,
        port,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        pid: child.pid as number,
        output: () => chunks.join(''),
        exitStatus: () => describeExit(child),
        stop: () => stopChild(child),
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await stopChild(child);
  throw new Error(`${options.app} was not ready within the timeout:\n${chunks.join('').slice(-4000)}`);
}

function describeExit(child: ChildProcess): string | undefined {
  if (child.signalCode !== null) return `signal ${child.signalCode}`;
  if (child.exitCode !== null) return `exit code ${child.exitCode}`;
  return undefined;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
