import { Platform, ServiceProcess, startServiceProcess } from '@multipult/testing';

/**
 * Another gateway in front of a platform's subgraphs (its supergraph file, Redis and token keys),
 * for tests that need one configured otherwise; `env` overrides any of it.
 */
export function startGatewayFor(platform: Platform, env: Record<string, string>): Promise<ServiceProcess> {
  return startServiceProcess({
    app: 'gateway',
    env: {
      REDIS_URL: process.env.REDIS_URL as string,
      REDIS_KEY_PREFIX: platform.redisKeyPrefix,
      AUTH_JWKS_URL: `${platform.auth.url}/.well-known/jwks.json`,
      SUPERGRAPH_PATH: platform.supergraphPath,
      RATE_LIMIT_PER_IP: '1000000',
      ...env,
    },
  });
}
