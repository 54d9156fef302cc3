import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import autocannon from 'autocannon';
import { Platform, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, expectSameAnswers, median, tenantOwnerWithDocuments } from './infrastructure';
import { cpuMicroseconds } from './process-cpu';

export type GatewayTarget = 'stock' | 'ours' | 'direct';

/** One query's load run against one target, or the median of its rounds. */
export interface GatewayRun {
  query: string;
  target: GatewayTarget;
  rounds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The gateway process's user + system CPU time over the run divided by the requests completed (NaN for direct). */
  cpuMicrosecondsPerRequest: number;
}

export interface GatewayQuery {
  name: string;
  description: string;
  /** Whether it is sent with the user's access token. */
  authenticated: boolean;
  body: string;
}

export interface GatewayOverheadResult {
  queries: GatewayQuery[];
  /** Medians over the rounds, per query and target. */
  medians: GatewayRun[];
  /** Every measured run, in the order it ran. */
  runs: GatewayRun[];
}

const body = (query: string) => JSON.stringify({ query });

const QUERIES: GatewayQuery[] = [
  { name: 'one subgraph', description: '{ me { id email displayName } } (auth)', authenticated: true, body: body('{ me { id email displayName } }') },
  {
    name: 'two subgraphs',
    description: '10 documents (content) with their owner’s displayName (auth entity)',
    authenticated: true,
    body: body('{ documents(first: 10) { totalCount edges { node { id title owner { id displayName } } } } }'),
  },
  { name: 'anonymous', description: '{ oidcProviders { id name } } without a token (auth, public)', authenticated: false, body: body('{ oidcProviders { id name } }') },
];

const DOCUMENTS = 10;


interface StockGateway {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** tools/bench/src/stock-gateway.ts as its own process on the platform's supergraph and subgraphs. */
async function startStockGateway(platform: Platform): Promise<StockGateway> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'stock-gateway.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      APOLLO_TELEMETRY_DISABLED: 'true',
      PORT: '0',
      SUPERGRAPH_PATH: platform.supergraphPath,
      SUBGRAPHS: Object.entries(platform.urls)
        .map(([name, url]) => `${name}=${url}`)
        .join(','),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`the stock gateway did not listen within 60 s:\n${output.slice(-4000)}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (\S+)/.exec(output);
      if (listening) {
        clearTimeout(timeout);
        resolve(new URL('/', listening[1]).href);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`the stock gateway exited with ${code} before it listened:\n${output.slice(-4000)}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  if (child.pid === undefined) throw new Error('the stock gateway has no pid');
  return { url, pid: child.pid, stop };
}

function load(url: string, query: GatewayQuery, token: string, durationSeconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json', ...(query.authenticated ? { authorization: `Bearer ${token}` } : {}) },
    body: query.body,
  });
}

/** Both gateways answer each query alike, before and after the load. */
function verifySameAnswers(targets: { target: GatewayTarget; url: string }[], token: string): Promise<void> {
  const queries = QUERIES.map(({ name, authenticated, body }) => ({ name, query: (JSON.parse(body) as { query: string }).query, token: authenticated ? token : undefined }));
  return expectSameAnswers(targets, queries);
}

/**
 * A stock @apollo/gateway (on @apollo/server, forwarding only `authorization`) versus ours, on the
 * same platform, supergraph and subgraphs, for a one-subgraph, a two-subgraph and an anonymous
 * query; rounds interleaved (stock, ours, stock, ours…) so drift on the shared machine hits both
 * alike. Besides latency and throughput, each run reads the gateway process's CPU time from /proc:
 * CPU per request is what a gateway costs independently of how the two cores are shared with the
 * load generator and subgraphs. The one-subgraph query also goes straight to the auth subgraph, as
 * the floor both gateways add to.
 */
export async function gatewayOverhead(options: { durationSeconds: number; connections: number; rounds: number }): Promise<GatewayOverheadResult> {
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789' },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: {
      RATE_LIMIT_PER_IP: '100000000',
      RATE_LIMIT_PER_USER: '100000000',
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` to see where our gateway spends its time under this load.
      ...(process.env.BENCH_GATEWAY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS } : {}),
    },
  });
  let stock: StockGateway | undefined;
  try {
    stock = await startStockGateway(platform);
    // Documents need a tenant the user owns: every authenticated query runs with the token of that tenant.
    const token = await tenantOwnerWithDocuments(platform.gatewayUrl, 'gateway', DOCUMENTS, 'Bench document');
    const gateways = [
      { target: 'stock' as const, url: stock.url, pid: stock.pid },
      { target: 'ours' as const, url: platform.gatewayUrl, pid: platform.gateway.pid },
    ];
    await verifySameAnswers(gateways, token);
    const runs: GatewayRun[] = [];
    const measure = async (query: GatewayQuery, target: GatewayTarget, url: string, pid: number | undefined) => {
      const before = pid === undefined ? 0 : cpuMicroseconds(pid);
      const result = await load(url, query, token, options.durationSeconds, options.connections);
      const cpuUsed = pid === undefined ? Number.NaN : cpuMicroseconds(pid) - before;
      if (result.errors || result.non2xx || result.timeouts) {
        throw new Error(`${target} gateway, ${query.name}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts under load`);
      }
      const requests = result.requests.total;
      runs.push({
        query: query.name,
        target,
        rounds: 1,
        requests,
        requestsPerSecond: result.requests.average,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        cpuMicrosecondsPerRequest: cpuUsed / requests,
      });
    };
    for (const query of QUERIES) {
      const targets: { target: GatewayTarget; url: string; pid?: number }[] = [...gateways];
      if (query.name === 'one subgraph') targets.push({ target: 'direct', url: platform.authUrl });
      for (const { url } of targets) await load(url, query, token, Math.min(2, options.durationSeconds), options.connections);
      for (let round = 0; round < options.rounds; round++) {
        for (const { target, url, pid } of targets) await measure(query, target, url, pid);
      }
    }
    // Still the same answers after the load: neither gateway degraded into errors while measured.
    await verifySameAnswers(gateways, token);
    const medians = QUERIES.flatMap((query) =>
      (['stock', 'ours', 'direct'] as const).flatMap((target): GatewayRun[] => {
        const of = runs.filter((run) => run.query === query.name && run.target === target);
        if (!of.length) return [];
        const medianOf = (key: keyof Pick<GatewayRun, 'requests' | 'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'cpuMicrosecondsPerRequest'>) =>
          median(of.map((run) => run[key]));
        return [
          {
            query: query.name,
            target,
            rounds: of.length,
            requests: medianOf('requests'),
            requestsPerSecond: medianOf('requestsPerSecond'),
            p50Ms: medianOf('p50Ms'),
            p99Ms: medianOf('p99Ms'),
            cpuMicrosecondsPerRequest: medianOf('cpuMicrosecondsPerRequest'),
          },
        ];
      }),
    );
    return { queries: QUERIES, medians, runs };
  } finally {
    await stock?.stop();
    await platform.stop();
  }
}
