import { spawn, type ChildProcess } from 'node:child_process';

/**
 * How the client tools connect to a database: the URL without its password (process arguments are
 * visible to every user of the machine) and the password in PGPASSWORD.
 */
export interface Connection {
  dbname: string;
  env: NodeJS.ProcessEnv;
}

export function connectionTo(databaseUrl: string, database?: string): Connection {
  const url = new URL(databaseUrl);
  if (database) url.pathname = `/${encodeURIComponent(database)}`;
  const password = decodeURIComponent(url.password);
  url.password = '';
  return { dbname: url.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

/** The last lines a tool wrote to stderr, for error messages. */
function collectStderr(child: ChildProcess): () => string {
  const chunks: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks).toString('utf8').trim().split('\n').slice(-20).join('\n');
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (code, signal) => resolve(code ?? (signal ? -1 : 0)));
  });
}

/** Runs a client tool to completion; rejects with its stderr when it fails. */
export async function runTool(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = collectStderr(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const code = await exited(child);
  if (code !== 0) throw new Error(`${command} failed (exit ${code}): ${spawnError?.message ?? stderr()}`);
}

/**
 * Pipes `producer`'s stdout into `consumer`'s stdin, and closes that stdin only once the producer
 * succeeded: a consumer that applies its input in one transaction (psql --single-transaction)
 * then commits only complete input, and is killed, so that it rolls back, when the producer fails.
 */
export async function runPipeline(
  producer: { command: string; args: string[] },
  consumer: { command: string; args: string[] },
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const source = spawn(producer.command, producer.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const sink = spawn(consumer.command, consumer.args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
  const [sourceStderr, sinkStderr] = [collectStderr(source), collectStderr(sink)];
  source.stdout.pipe(sink.stdin, { end: false });
  sink.stdin.on('error', () => undefined); // a consumer that died early is reported by its exit code
  const sinkExit = exited(sink);
  const sourceExit = exited(source);
  const first = await Promise.race([sourceExit.then((code) => ({ source: code })), sinkExit.then((code) => ({ sink: code }))]);
  if ('sink' in first) {
    source.kill('SIGKILL');
    await sourceExit;
    throw new Error(`${consumer.command} stopped before ${producer.command} finished (exit ${first.sink}): ${sinkStderr()}`);
  }
  if (first.source !== 0) {
    sink.kill('SIGKILL');
    await sinkExit;
    throw new Error(`${producer.command} failed (exit ${first.source}): ${sourceStderr()}`);
  }
  sink.stdin.end();
  const sinkCode = await sinkExit;
  if (sinkCode !== 0) throw new Error(`${consumer.command} failed (exit ${sinkCode}): ${sinkStderr()}`);
}
