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
  if (code !== 0) throw new CliError(`${service}: ${failureOf(service, stderr) ?? `exited with code ${code}`}`);
  const result = stdout
    .split('\n')
    .reverse()
    .map(parseObject)
    .find((value) => value !== undefined);
  if (!result) throw new CliError(`${service}: printed no result`);
  return result;
}

/**
 * The child's own one-line report (`<service> cli: …`), or else the first error it logged (Nest
 * exits by itself when the application context cannot start, e.g. a database it cannot reach).
 */
function failureOf(service: OperatorService, stderr: string): string | undefined {
  const lines = stderr.split('\n').map((line) => line.trim());
  const prefix = `${service} cli: `;
  const reported = lines.filter((line) => line.startsWith(prefix)).at(-1);
  return reported?.slice(prefix.length) ?? lines.find((line) => /^\w*Error: /.test(line));
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
