import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
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

interface FreePorts {
  freePort(): Promise<number>;
  freePortBlock(size: number): Promise<number>;
}
let sharedFreePorts: FreePorts | undefined;

/** tools/testing/free-port.cjs, which tools/testing/infrastructure.mjs uses too, before anything is built; loaded natively, so one copy per process. */
function freePorts(): FreePorts {
  sharedFreePorts ??= createRequire(__filename)(path.join(workspaceRoot(), 'tools/testing/free-port.cjs')) as FreePorts;
  return sharedFreePorts;
}

/** A port free now, for a process started later: below the kernel's ephemeral range, never twice from one process, leased across processes. */
export function freePort(): Promise<number> {
  return freePorts().freePort();
}

/** The first of `size` consecutive free ports, leased like freePort's: for a process that lays out its listeners from one base port. */
export function freePortBlock(size: number): Promise<number> {
  return freePorts().freePortBlock(size);
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
