import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from './database';
import { ServiceProcess, startServiceProcess, workspaceRoot } from './service-process';

const run = promisify(execFile);

export interface Platform {
  gatewayUrl: string;
  authUrl: string;
  contentUrl: string;
  notificationsUrl: string;
  /** The gateway's GraphQL-over-WebSocket endpoint (ws://…/graphql/ws). */
  realtimeUrl: string;
  auth: ServiceProcess;
  content: ServiceProcess;
  notifications: ServiceProcess;
  gateway: ServiceProcess;
  databaseUrl: string;
  /** The Redis key (and channel) prefix the services share, for operator tools run against this platform. */
  redisKeyPrefix: string;
  supergraphPath: string;
  /** Another notifications instance on the same database, Redis and Kafka (scale-out tests); stopped with the platform. */
  startNotificationsInstance(env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through npm test or nx test (the global setup provides it)`);
  return value;
}

/**
 * The platform as production runs it, for end-to-end tests and benchmarks: the built subgraphs
 * (auth, content, notifications) as processes sharing a fresh database (each in its own schema), the supergraph
 * composed from them by tools/compose-supergraph, and the built gateway loading that file.
 */
export async function startPlatform(
  options: {
    /** Variables for every service (e.g. NODE_ENV, LOG_LEVEL). */
    env?: Record<string, string>;
    authEnv?: Record<string, string>;
    contentEnv?: Record<string, string>;
    notificationsEnv?: Record<string, string>;
    gatewayEnv?: Record<string, string>;
  } = {},
): Promise<Platform> {
  const database = await createTestDatabase('platform');
  const shared = {
    ...options.env,
    REDIS_URL: requiredEnv('REDIS_URL'),
    REDIS_KEY_PREFIX: `platform:${process.pid}:${Date.now()}:`,
  };
  const started: ServiceProcess[] = [];
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'multipult-e2e-'));
  try {
    const auth = await startServiceProcess({
      app: 'auth',
      env: {
        ...shared,
        DATABASE_URL: database.url,
        KAFKA_BROKERS: requiredEnv('KAFKA_BROKERS'),
        OUTBOX_POLL_INTERVAL_MS: '200',
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        ...options.authEnv,
      },
    });
    started.push(auth);
    const jwksUrl = `${auth.url}/.well-known/jwks.json`;
    const content = await startServiceProcess({
      app: 'content',
      env: {
        ...shared,
        DATABASE_URL: database.url,
        KAFKA_BROKERS: requiredEnv('KAFKA_BROKERS'),
        AUTH_JWKS_URL: jwksUrl,
        OUTBOX_POLL_INTERVAL_MS: '200',
        ...options.contentEnv,
      },
    });
    started.push(content);
    const notificationsEnv = {
      ...shared,
      DATABASE_URL: database.url,
      KAFKA_BROKERS: requiredEnv('KAFKA_BROKERS'),
      AUTH_JWKS_URL: jwksUrl,
      OUTBOX_POLL_INTERVAL_MS: '200',
      EMAIL_POLL_INTERVAL_MS: '100',
      ...options.notificationsEnv,
    };
    const notifications = await startServiceProcess({ app: 'notifications', env: notificationsEnv });
    started.push(notifications);
    const supergraphPath = path.join(workDir, 'supergraph.graphql');
    await run(process.execPath, [
      path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs'),
      ...['--subgraph', `auth=${auth.url}/graphql`, '--subgraph', `content=${content.url}/graphql`],
      ...['--subgraph', `notifications=${notifications.url}/graphql`],
      '--out',
      supergraphPath,
    ]);
    const gateway = await startServiceProcess({
      app: 'gateway',
      env: {
        ...shared,
        SUPERGRAPH_PATH: supergraphPath,
        AUTH_JWKS_URL: jwksUrl,
        REALTIME_URL: `${notifications.url}/graphql/ws`,
        ...options.gatewayEnv,
      },
    });
    started.push(gateway);
    return {
      gatewayUrl: `${gateway.url}/graphql`,
      authUrl: `${auth.url}/graphql`,
      contentUrl: `${content.url}/graphql`,
      notificationsUrl: `${notifications.url}/graphql`,
      realtimeUrl: `${gateway.url.replace(/^http/, 'ws')}/graphql/ws`,
      auth,
      content,
      notifications,
      gateway,
      databaseUrl: database.url,
      redisKeyPrefix: shared.REDIS_KEY_PREFIX,
      supergraphPath,
      startNotificationsInstance: async (env = {}) => {
        const instance = await startServiceProcess({ app: 'notifications', env: { ...notificationsEnv, ...env } });
        started.push(instance);
        return instance;
      },
      stop: async () => {
        await Promise.all(started.map((service) => service.stop()));
        await database.drop();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((service) => service.stop()));
    await database.drop();
    throw error;
  }
}
