import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, graphqlData, startServiceProcess, workspaceRoot } from '@multipult/testing';

const run = promisify(execFile);

export interface LatencyRun {
  target: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

const ME_QUERY = JSON.stringify({ query: '{ me { id email displayName } }' });

function load(url: string, token: string, durationSeconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: ME_QUERY,
  });
}

/**
 * `me` straight to the auth subgraph versus through the gateway, same process, same token, same
 * load: the ratio is what the gateway (edge checks, rate limit, query planning, forwarding) costs.
 */
export async function gatewayOverhead(options: { durationSeconds: number; connections: number }): Promise<LatencyRun[]> {
  const database = await createTestDatabase('bench_gateway');
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'multipult-bench-'));
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: `bench:${Date.now()}:`,
  };
  const auth = await startServiceProcess({
    app: 'auth',
    env: {
      ...common,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789',
    },
  });
  const supergraphPath = path.join(workDir, 'supergraph.graphql');
  await run(process.execPath, [
    path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs'),
    '--subgraph',
    `auth=${auth.url}/graphql`,
    '--out',
    supergraphPath,
  ]);
  const gateway = await startServiceProcess({
    app: 'gateway',
    env: {
      ...common,
      SUPERGRAPH_PATH: supergraphPath,
      AUTH_JWKS_URL: `${auth.url}/.well-known/jwks.json`,
      RATE_LIMIT_PER_IP: '100000000',
      RATE_LIMIT_PER_USER: '100000000',
    },
  });
  try {
    const { register } = await graphqlData<{ register: { accessToken: string } }>(
      `${gateway.url}/graphql`,
      `mutation { register(input: { email: "bench-${Date.now()}@example.com", password: "a long bench passphrase 1", displayName: "Bench" }) { accessToken } }`,
    );
    const targets = [
      { target: 'auth subgraph (direct)', url: `${auth.url}/graphql` },
      { target: 'gateway -> auth', url: `${gateway.url}/graphql` },
    ];
    const results: LatencyRun[] = [];
    for (const { target, url } of targets) {
      await load(url, register.accessToken, 2, options.connections);
      const result = await load(url, register.accessToken, options.durationSeconds, options.connections);
      results.push({
        target,
        requestsPerSecond: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors,
        non2xx: result.non2xx,
      });
    }
    return results;
  } finally {
    await gateway.stop();
    await auth.stop();
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  }
}
