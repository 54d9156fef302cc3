import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { SERVICE_REGISTRY, SUBGRAPH_SERVICES, ServiceEntry, graphqlUrlVariable } from '@multipult/registry';
import { createTestDatabase } from './database';
import { ServiceProcess, startServiceProcess, workspaceRoot } from './service-process';

const run = promisify(execFile);

export interface Platform {
  gatewayUrl: string;
  /** The GraphQL endpoint of each subgraph, by its name in the service registry. */
  urls: Readonly<Record<string, string>>;
  /** Each subgraph's process, by its name in the service registry. */
  services: Readonly<Record<string, ServiceProcess>>;
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
  /** The namespace of this platform's Kafka topics and consumer groups (KAFKA_TOPIC_PREFIX). */
  kafkaTopicPrefix: string;
  supergraphPath: string;
  /**
   * Another instance of a subgraph on the same database, Redis and Kafka (scale-out tests), or, on
   * the `port` of one that was killed, its replacement (restart tests); stopped with the platform.
   * `root`: another checkout whose build to run (a benchmark's baseline commit); this one's by default.
   */
  startServiceInstance(name: string, env?: Record<string, string>, port?: number, root?: string): Promise<ServiceProcess>;
  startNotificationsInstance(env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
  /** Kills every process at once without waiting (for process exit handlers). */
  kill(): void;
}

export interface PlatformOptions {
  /** Variables for every service, the gateway included (e.g. NODE_ENV, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Variables for one subgraph, by its name in the service registry. */
  serviceEnv?: Record<string, Record<string, string>>;
  authEnv?: Record<string, string>;
  contentEnv?: Record<string, string>;
  notificationsEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** How long each process (replacements included) may take to answer ready; startServiceProcess's default when absent. */
  readyTimeoutMs?: number;
  /**
   * Topics created in the platform's Kafka namespace before any service starts, by logical name,
   * with their partition counts (as ops provision them); the services create the others with the
   * broker's default of one partition.
   */
  kafkaTopics?: Readonly<Record<string, number>>;
}

async function createKafkaTopics(prefix: string, partitionsByTopic: Readonly<Record<string, number>>): Promise<void> {
  const admin = new Kafka({ brokers: requiredEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = Object.entries(partitionsByTopic).map(([topic, numPartitions]) => ({ topic: `${prefix}${topic}`, numPartitions }));
    await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through npm test or nx test (the global setup provides it)`);
  return value;
}

/**
 * The platform as production runs it, for end-to-end tests and benchmarks: every subgraph of the
 * service registry as a built process, all sharing a fresh database (each in its own schema), one
 * Redis prefix and one Kafka namespace of their own; the supergraph composed from them by
 * tools/compose-supergraph; and the built gateway loading that file. The token issuer starts first
 * (the others fetch its JWKS), the other subgraphs then start together.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const database = await createTestDatabase('platform');
  const namespace = `${process.pid}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const shared = {
    ...options.env,
    REDIS_URL: requiredEnv('REDIS_URL'),
    REDIS_KEY_PREFIX: `platform:${namespace}:`,
  };
  const kafkaTopicPrefix = `platform-${namespace}.`;
  if (options.kafkaTopics) await createKafkaTopics(kafkaTopicPrefix, options.kafkaTopics);
  const serviceEnv: Record<string, Record<string, string> | undefined> = {
    ...options.serviceEnv,
    auth: { ...options.serviceEnv?.auth, ...options.authEnv },
    content: { ...options.serviceEnv?.content, ...options.contentEnv },
    notifications: { ...options.serviceEnv?.notifications, ...options.notificationsEnv },
  };
  const started: ServiceProcess[] = [];
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'multipult-e2e-'));
  const envOf = (service: ServiceEntry, jwksUrl: string | undefined): Record<string, string> => ({
    ...shared,
    DATABASE_URL: database.url,
    KAFKA_BROKERS: requiredEnv('KAFKA_BROKERS'),
    KAFKA_TOPIC_PREFIX: kafkaTopicPrefix,
    OUTBOX_POLL_INTERVAL_MS: '200',
    ...(jwksUrl ? { AUTH_JWKS_URL: jwksUrl } : {}),
    ...service.testEnv,
    ...serviceEnv[service.name],
  });
  const startTracked = async (app: string, env: Record<string, string>, port?: number, root?: string) => {
    const service = await startServiceProcess({ app, env, port, root, readyTimeoutMs: options.readyTimeoutMs });
    started.push(service);
    return service;
  };
  const stopAll = async () => {
    await Promise.all(started.map((service) => service.stop()));
    await database.drop();
    await rm(workDir, { recursive: true, force: true });
  };
  try {
    const [issuer, ...others] = SUBGRAPH_SERVICES;
    const issuerProcess = await startTracked(issuer.name, envOf(issuer, undefined));
    const jwksUrl = `${issuerProcess.url}/.well-known/jwks.json`;
    // Settled, not raced: a service still starting when another fails must be tracked, or it outlives the platform.
    // In waves: a service that calls other subgraphs directly starts once they listen, and is told where.
    const otherProcesses: ServiceProcess[] = [];
    const calledUrls = (service: ServiceEntry) =>
      Object.fromEntries(
        service.calls.map((called) => [graphqlUrlVariable(called), `${[issuerProcess, ...otherProcesses].find((running) => running.name === called)?.url}/graphql`]),
      );
    for (const wave of [others.filter((service) => service.calls.length === 0), others.filter((service) => service.calls.length > 0)]) {
      const starts = await Promise.allSettled(wave.map((service) => startTracked(service.name, { ...calledUrls(service), ...envOf(service, jwksUrl) })));
      const failedStart = starts.find((start): start is PromiseRejectedResult => start.status === 'rejected');
      if (failedStart) throw failedStart.reason;
      otherProcesses.push(...starts.map((start) => (start as PromiseFulfilledResult<ServiceProcess>).value));
    }
    const services: Record<string, ServiceProcess> = Object.fromEntries(
      [issuerProcess, ...otherProcesses].map((service) => [service.name, service]),
    );
    const urls = Object.fromEntries(Object.values(services).map((service) => [service.name, `${service.url}/graphql`]));
    const supergraphPath = path.join(workDir, 'supergraph.graphql');
    await run(process.execPath, [
      path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs'),
      ...Object.entries(urls).flatMap(([name, url]) => ['--subgraph', `${name}=${url}`]),
      '--out',
      supergraphPath,
    ]);
    const gateway = await startTracked(SERVICE_REGISTRY.gateway.name, {
      ...shared,
      SUPERGRAPH_PATH: supergraphPath,
      AUTH_JWKS_URL: jwksUrl,
      ...options.gatewayEnv,
    });
    const service = (name: string): ServiceProcess => {
      const found = services[name];
      if (!found) throw new Error(`${name} is not a service of this platform (libs/registry/src/services.json)`);
      return found;
    };
    const startServiceInstance = (name: string, env: Record<string, string> = {}, port?: number, root?: string) => {
      const entry = SUBGRAPH_SERVICES.find((candidate) => candidate.name === name);
      if (!entry) throw new Error(`${name} is not a subgraph of the service registry`);
      return startTracked(name, { ...calledUrls(entry), ...envOf(entry, entry.issuesTokens ? undefined : jwksUrl), ...env }, port, root);
    };
    return {
      gatewayUrl: `${gateway.url}/graphql`,
      urls,
      services,
      authUrl: `${service('auth').url}/graphql`,
      contentUrl: `${service('content').url}/graphql`,
      notificationsUrl: `${service('notifications').url}/graphql`,
      realtimeUrl: `${gateway.url.replace(/^http/, 'ws')}/graphql/ws`,
      auth: service('auth'),
      content: service('content'),
      notifications: service('notifications'),
      gateway,
      databaseUrl: database.url,
      redisKeyPrefix: shared.REDIS_KEY_PREFIX,
      kafkaTopicPrefix,
      supergraphPath,
      startServiceInstance,
      startNotificationsInstance: (env) => startServiceInstance('notifications', env),
      stop: stopAll,
      kill: () => started.forEach((running) => running.kill()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
