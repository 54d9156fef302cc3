import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { workspaceRoot } from './service-process';

export interface KafkaBroker {
  /** `host:port`, as KAFKA_BROKERS expects it. */
  brokers: string;
  version: string;
  /** Stops the broker (controlled shutdown) and waits for its process to exit. */
  stop(): Promise<void>;
}

export interface OpenSearchNode {
  /** `http://127.0.0.1:<port>`, as SEARCH_ENGINE_URL expects it. */
  url: string;
  version: string;
  /** The node's JVM process (for CPU readings from /proc). */
  pid: number;
  /** Stops the node and waits for its process to exit; its data goes with it. */
  stop(): Promise<void>;
}

const STDERR_TAIL_CHARS = 4_000;

/**
 * Starts a dedicated broker through tools/kafka, for tests that stop and restart one; pass the
 * port of a stopped broker to bring "the same" broker back. Shared tests use KAFKA_BROKERS instead.
 */
export function startKafkaBroker({ port }: { port?: number } = {}): Promise<KafkaBroker> {
  return startJvmTool<{ brokers: string; version: string }>('tools/kafka/kafka.mjs', port ? ['--port', String(port)] : []);
}

/** Starts a single OpenSearch node with empty data through tools/opensearch. */
export function startOpenSearchNode({ heapMb }: { heapMb?: number } = {}): Promise<OpenSearchNode> {
  return startJvmTool<{ url: string; version: string; pid: number }>('tools/opensearch/opensearch.mjs', heapMb ? ['--heap-mb', String(heapMb)] : []);
}

/** Runs a tool's `start` CLI, which prints one JSON line once its service is ready. */
async function startJvmTool<Ready>(launcherPath: string, args: string[]): Promise<Ready & { stop(): Promise<void> }> {
  const launcher = path.join(workspaceRoot(), launcherPath);
  // stdin stays a pipe: the launcher stops its JVM when this process goes away.
  const child = spawn(process.execPath, [launcher, 'start', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${launcherPath} exited with ${code} before it was ready:\n${stderr}`));
    child.once('exit', onExit);
    createInterface({ input: child.stdout }).once('line', (line) => {
      child.off('exit', onExit);
      try {
        resolve(JSON.parse(line));
      } catch {
        child.kill('SIGTERM');
        reject(new Error(`${launcherPath} printed an unexpected line: ${line}`));
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
