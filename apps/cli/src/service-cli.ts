import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CliError } from './errors';

/** Services whose operator entry point (apps/<service>/src/cli.ts) this CLI runs. */
export type OperatorService = 'auth' | 'content' | 'notifications';

/**
 * The built tree this CLI runs from: `dist/apps/cli/apps/cli/src/main.js` sits under `dist`, next to
 * the services' builds. Outside a build (e.g. under jest) the workspace's `dist` is meant.
 */
export function distDirectory(from: string = __dirname): string {
  for (let directory = from; directory !== path.dirname(directory); directory = path.dirname(directory)) {
    if (path.basename(directory) === 'dist') return directory;
  }
  return path.resolve('dist');
}

export function serviceCliPath(service: OperatorService, dist = distDirectory()): string {
  return path.join(dist, 'apps', service, 'apps', service, 'src', 'cli.js');
}

/**
 * Runs a service's operator entry point as a child process with this process's environment (the
 * service validates its own configuration and works through its own code: hashing, outbox,
 * audit), and answers the JSON object it prints last. Apps do not import each other; this is how
 * the operator CLI reaches a service's logic. Its failure becomes one line without the child's prefix.
 */
export async function runServiceCli(
  service: OperatorService,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>> {
  const file = serviceCliPath(service);
  if (!existsSync(file)) throw new CliError(`the ${service} service is not built (${file} is missing): run npx nx build ${service}`);
  const child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const reason = lastLine(stderr)?.replace(new RegExp(`^${service} cli: `), '') ?? `exited with code ${code}`;
    throw new CliError(`${service}: ${reason}`);
  }
  const result = stdout
    .split('\n')
    .reverse()
    .map(parseObject)
    .find((value) => value !== undefined);
  if (!result) throw new CliError(`${service}: printed no result`);
  return result;
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .at(-1);
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
