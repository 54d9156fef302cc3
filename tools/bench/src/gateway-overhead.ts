import autocannon from 'autocannon';
import { graphqlData, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV } from './infrastructure';

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
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789' },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
  });
  try {
    const { register } = await graphqlData<{ register: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation { register(input: { email: "bench-${Date.now()}@example.com", password: "a long bench passphrase 1", displayName: "Bench" }) { accessToken } }`,
    );
    const targets = [
      { target: 'auth subgraph (direct)', url: platform.authUrl },
      { target: 'gateway -> auth', url: platform.gatewayUrl },
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
    await platform.stop();
  }
}
