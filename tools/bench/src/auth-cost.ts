import { Algorithm, hash, verify } from '@node-rs/argon2';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { randomUUID } from 'node:crypto';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE, AccessTokenVerifier } from '@multipult/auth';
import { MemoryFastStore, RedisFastStore } from '@multipult/redis';
import { graphqlData, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, percentile } from './infrastructure';

export interface LoginRun {
  logins: number;
  loginsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** The same hash verifications alone, same concurrency, in this process: the ceiling login approaches. */
  argon2VerificationsPerSecond: number;
}

export interface VerificationRun {
  path: string;
  verificationsPerSecond: number;
  microsecondsEach: number;
}

const PASSWORD = 'a long bench passphrase 1';

/** Runs `task` from `concurrency` loops for `durationMs`; answers each call's latency. */
async function saturate(concurrency: number, durationMs: number, task: (loop: number) => Promise<boolean>): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (Date.now() < deadline) {
        const started = performance.now();
        if (await task(loop)) latencies.push(performance.now() - started);
        else failures += 1;
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), failures };
}

/**
 * Sign-in through the gateway with argon2id at the configured cost (ARGON2_MEMORY_KIB,
 * ARGON2_TIME_COST; OWASP defaults unless given), one account per connection, against the same
 * number of bare argon2 verifications in this process: the ratio shows what sessions, tokens,
 * audit and events add on top of the hash.
 */
export async function loginThroughput(options: { durationSeconds: number; connections: number; memoryKib: number; timeCost: number }): Promise<LoginRun> {
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    authEnv: {
      SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789',
      FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789',
      ARGON2_MEMORY_KIB: String(options.memoryKib),
      ARGON2_TIME_COST: String(options.timeCost),
      MAX_SESSIONS_PER_USER: '1000',
    },
    notificationsEnv: BENCH_NOTIFICATIONS_ENV,
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
  });
  try {
    const emails: string[] = [];
    for (let index = 0; index < options.connections; index += 1) {
      const email = `bench-login-${index}-${randomUUID()}@example.com`;
      await graphqlData(platform.gatewayUrl, `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
        variables: { input: { email, password: PASSWORD, displayName: `Bench ${index}` } },
      });
      emails.push(email);
    }
    const login = async (loop: number) => {
      const response = await fetch(platform.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
          variables: { input: { email: emails[loop], password: PASSWORD } },
        }),
      });
      const body = (await response.json()) as { data?: { login?: { accessToken?: string } } };
      return Boolean(body.data?.login?.accessToken);
    };
    await saturate(options.connections, 2_000, login);
    const { latencies, failures } = await saturate(options.connections, options.durationSeconds * 1000, login);

    const argon2Options = { algorithm: Algorithm.Argon2id, memoryCost: options.memoryKib, timeCost: options.timeCost, parallelism: 1 };
    const passwordHash = await hash(PASSWORD, argon2Options);
    const bare = await saturate(options.connections, options.durationSeconds * 1000, () => verify(passwordHash, PASSWORD));
    return {
      logins: latencies.length,
      loginsPerSecond: latencies.length / options.durationSeconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      failures,
      argon2VerificationsPerSecond: bare.latencies.length / options.durationSeconds,
    };
  } finally {
    await platform.stop();
  }
}

/**
 * What checking an access token costs each request, in process: the signature alone (jose), then
 * the platform's verifier with its revocation lookup in memory and in Redis (one MGET round trip),
 * one at a time and with requests in flight as a busy service has them.
 */
export async function tokenVerificationCost(options: { iterations: number; redisUrl: string }): Promise<VerificationRun[]> {
  const pair = await generateKeyPair(ACCESS_TOKEN_ALGORITHM, { extractable: true });
  const kid = 'bench';
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: ACCESS_TOKEN_ALGORITHM }] });
  const token = await new SignJWT({ sid: randomUUID(), tid: randomUUID(), ten: { t: ['content:read', 'content:write'] } })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer('bench')
    .setAudience('bench')
    .setSubject(randomUUID())
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(pair.privateKey);

  const redis = RedisFastStore.connect(options.redisUrl, `bench:${process.pid}:`);
  const memory = new MemoryFastStore();
  const inMemory = new AccessTokenVerifier({ keys, store: memory, issuer: 'bench', audience: 'bench' });
  const inRedis = new AccessTokenVerifier({ keys, store: redis, issuer: 'bench', audience: 'bench' });
  const paths: [string, number, () => Promise<unknown>][] = [
    ['signature only (jose jwtVerify)', 1, () => jwtVerify(token, keys, { algorithms: [ACCESS_TOKEN_ALGORITHM], typ: ACCESS_TOKEN_TYPE })],
    ['AccessTokenVerifier, revocation in memory', 1, () => inMemory.verify(token)],
    ['AccessTokenVerifier, revocation in Redis', 1, () => inRedis.verify(token)],
    ['AccessTokenVerifier, revocation in Redis, 32 in flight', 32, () => inRedis.verify(token)],
  ];
  try {
    const best = new Map<string, number>();
    // Rounds interleave the paths, so warm-up and GC do not favour whichever runs last; the best round counts.
    for (let round = 0; round < 3; round += 1) {
      for (const [path, inFlight, run] of paths) {
        const started = performance.now();
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            for (let iteration = 0; iteration < options.iterations / inFlight; iteration += 1) await run();
          }),
        );
        const rate = options.iterations / ((performance.now() - started) / 1000);
        best.set(path, Math.max(best.get(path) ?? 0, rate));
      }
    }
    return paths.map(([path]) => ({ path, verificationsPerSecond: best.get(path) as number, microsecondsEach: 1e6 / (best.get(path) as number) }));
  } finally {
    await Promise.all([redis.close(), memory.close()]);
  }
}
