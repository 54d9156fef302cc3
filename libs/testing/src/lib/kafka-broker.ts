import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface KafkaBroker {
  /** `host:port`, as KAFKA_BROKERS expects it. */
  brokers: string;
  version: string;
  /** Stops the broker (controlled shutdown) and waits for its process to exit. */
  stop(): Promise<void>;
}

const STDERR_TAIL_CHARS = 4_000;

/**
 * Starts a dedicated broker through tools/kafka, for tests that stop and restart one; pass the
 * port of a stopped broker to bring "the same" broker back. Shared tests use KAFKA_BROKERS instead.
 */
export async function startKafkaBroker({ port }: { port?: number } = {}): Promise<KafkaBroker> {
  const launcher = path.join(workspaceRoot(), 'tools/kafka/kafka.mjs');
  const args = [launcher, 'start', ...(port ? ['--port', String(port)] : [])];
  // stdin stays a pipe: the launcher stops its broker when this process goes away.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  const ready = await new Promise<{ brokers: string; version: string }>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`tools/kafka exited with ${code} before the broker was ready:\n${stderr}`));
    child.once('exit', onExit);
    createInterface({ input: child.stdout }).once('line', (line) => {
      child.off('exit', onExit);
      try {
        resolve(JSON.parse(line));
      } catch {
        child.kill('SIGTERM');
        reject(new Error(`tools/kafka printed an unexpected line: ${line}`));
      }
    });
  });
  return { ...ready, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function workspaceRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`No nx.json above ${__dirname}: cannot find the workspace root`);
  }
}
