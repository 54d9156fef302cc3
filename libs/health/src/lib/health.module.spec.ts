import net from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { ConfigModule, baseEnv, databaseEnv, kafkaEnv, loadConfig, redisEnv } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { RedisModule } from '@multipult/redis';
import { TestDatabase, createTestDatabase, eventually, freePort } from '@multipult/testing';
import { HealthModule } from './health.module';
import { DEFAULT_CHECK_TIMEOUT_MS, DatabaseProbe, FastStoreProbe, KafkaProbe, withTimeout } from './readiness-probes';

// A service as the apps wire it (config, Redis, database, health) against the real PostgreSQL,
// Redis and Kafka of the jest global setup, probed over HTTP.

class CreateGadgets1700000000001 implements MigrationInterface {
  name = 'CreateGadgets1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE gadgets (id serial PRIMARY KEY)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE gadgets`);
  }
}

const serviceEnv = z.object({ ...baseEnv, ...databaseEnv, ...redisEnv, ...kafkaEnv });

interface HealthBody {
  status: 'ok' | 'error' | 'shutting_down';
  info?: Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;
  error?: Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;
  details: Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;
}

interface Probed {
  status: number;
  body: HealthBody;
  elapsedMs: number;
}

/** Accepts TCP connections and never answers: a hung broker. */
async function startSilentServer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('HealthModule', () => {
  let database: TestDatabase;
  const apps: INestApplication[] = [];
  let schemaCounter = 0;

  beforeAll(async () => {
    database = await createTestDatabase('lib_health');
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await database?.drop();
  });

  /** Boots the service on an ephemeral port; `env` overrides (undefined unsets) the shared infrastructure. */
  async function startService(
    env: Record<string, string | undefined> = {},
    {
      migrations = [CreateGadgets1700000000001],
      gracefulShutdownTimeoutMs,
    }: { migrations?: (new () => MigrationInterface)[]; gracefulShutdownTimeoutMs?: number } = {},
  ) {
    const config = loadConfig(serviceEnv, {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `health-spec:${process.pid}:`,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      ...env,
    });
    schemaCounter += 1;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        RedisModule.forRoot(),
        DatabaseModule.forRoot({ service: 'health-spec', schema: `health_${schemaCounter}`, entities: [], migrations }),
        HealthModule.forRoot({ probes: [DatabaseProbe, FastStoreProbe, KafkaProbe], gracefulShutdownTimeoutMs }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as net.AddressInfo;
    // Bounded, so a hanging endpoint fails its test instead of the whole file.
    const probe = async (path: string, timeoutMs = 10_000): Promise<Probed> => {
      const started = Date.now();
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      const body = (await response.json()) as HealthBody;
      return { status: response.status, body, elapsedMs: Date.now() - started };
    };
    return { app, probe };
  }

  it('answers liveness with 200 without asking any dependency', async () => {
    // Kafka unreachable: the service is not ready, but it is alive.
    const { probe } = await startService({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });

    const live = await probe('/health/live');

    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    expect((await probe('/health/ready')).status).toBe(503);
  });

  it('answers readiness with 200 and the details of every dependency when all are up', async () => {
    const { probe } = await startService();

    const ready = await probe('/health/ready');

    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.error).toEqual({});
    expect(ready.body.details).toEqual({
      database: { status: 'up', migrations: 'applied' },
      redis: { status: 'up', mode: 'redis' },
      kafka: { status: 'up', brokers: expect.any(Number) },
    });
    expect(ready.body.details.kafka.brokers).toBeGreaterThanOrEqual(1);
  });

  it('answers readiness with 503 naming the database while migrations are pending, 200 once applied', async () => {
    const { app, probe } = await startService({ DATABASE_MIGRATIONS_RUN: 'false' });

    const pending = await probe('/health/ready');

    expect(pending.status).toBe(503);
    expect(pending.body.status).toBe('error');
    expect(pending.body.error).toEqual({ database: { status: 'down', message: 'migrations pending' } });
    expect(pending.body.info).toEqual({
      redis: { status: 'up', mode: 'redis' },
      kafka: { status: 'up', brokers: expect.any(Number) },
    });

    await app.get(DataSource).runMigrations();

    const migrated = await probe('/health/ready');
    expect(migrated.status).toBe(200);
    expect(migrated.body.details.database).toEqual({ status: 'up', migrations: 'applied' });
  });

  it('answers readiness with 503 naming kafka, quickly, when no broker listens on KAFKA_BROKERS', async () => {
    const { probe } = await startService({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });

    const ready = await probe('/health/ready');

    expect(ready.status).toBe(503);
    expect(Object.keys(ready.body.error ?? {})).toEqual(['kafka']);
    expect(ready.body.error?.kafka).toEqual({ status: 'down', message: expect.stringMatching(/ECONNREFUSED|connect/i) });
    expect(ready.body.info).toEqual({
      database: { status: 'up', migrations: 'applied' },
      redis: { status: 'up', mode: 'redis' },
    });
    expect(ready.elapsedMs).toBeLessThan(3_000);
  });

  // A broker that accepts connections but never answers: the probe must still give up on time.
  it('answers readiness with 503 naming kafka after the per-check timeout when the broker never answers', async () => {
    const silent = await startSilentServer();
    try {
      const { probe } = await startService({ KAFKA_BROKERS: silent.address });

      const ready = await probe('/health/ready', 5_000);

      expect(ready.status).toBe(503);
      expect(ready.body.error).toEqual({
        kafka: { status: 'down', message: `kafka metadata timed out after ${DEFAULT_CHECK_TIMEOUT_MS} ms` },
      });
      expect(ready.body.info?.database).toEqual({ status: 'up', migrations: 'applied' });
      expect(ready.elapsedMs).toBeGreaterThanOrEqual(DEFAULT_CHECK_TIMEOUT_MS - 100);
      expect(ready.elapsedMs).toBeLessThan(3_000);
    } finally {
      // Drops the probe's connection, which ends its pending request and lets the app close.
      await silent.close();
    }
  });

  // Before a slow test on purpose: closing an ioredis client that is between reconnection attempts
  // leaves its 2 s disconnect timer running (ioredis AbstractConnector.disconnect), which would make
  // jest report that it did not exit if this test came last.
  it('answers readiness with 503 naming redis, within the per-check timeout, when Redis is unreachable', async () => {
    const { probe } = await startService({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });

    const ready = await probe('/health/ready');

    expect(ready.status).toBe(503);
    expect(ready.body.error).toEqual({
      redis: { status: 'down', message: expect.stringMatching(/max retries per request|ECONNREFUSED|timed out/i) },
    });
    expect(ready.body.info).toEqual({
      database: { status: 'up', migrations: 'applied' },
      kafka: { status: 'up', brokers: expect.any(Number) },
    });
    expect(ready.elapsedMs).toBeLessThan(3_000);
  });

  it('answers readiness with 503 naming the database after the per-check timeout when no connection is free', async () => {
    const { app, probe } = await startService({ DATABASE_POOL_MAX: '1' });
    const dataSource = app.get(DataSource);
    // The only pooled connection is busy for longer than the check may take.
    const hog = dataSource.query('SELECT pg_sleep(3)');
    try {
      const ready = await probe('/health/ready');

      expect(ready.status).toBe(503);
      expect(ready.body.error).toEqual({
        database: { status: 'down', message: `database ping timed out after ${DEFAULT_CHECK_TIMEOUT_MS} ms` },
      });
      expect(ready.body.info).toEqual({
        redis: { status: 'up', mode: 'redis' },
        kafka: { status: 'up', brokers: expect.any(Number) },
      });
      expect(ready.elapsedMs).toBeGreaterThanOrEqual(DEFAULT_CHECK_TIMEOUT_MS - 100);
      expect(ready.elapsedMs).toBeLessThan(3_000);
    } finally {
      await hog;
    }
  });

  it('reports the in-process stand-ins as up without REDIS_URL and KAFKA_BROKERS', async () => {
    const { probe } = await startService({ REDIS_URL: undefined, KAFKA_BROKERS: undefined });

    const ready = await probe('/health/ready');

    expect(ready.status).toBe(200);
    expect(ready.body.details).toEqual({
      database: { status: 'up', migrations: 'applied' },
      redis: { status: 'up', mode: 'memory' },
      kafka: { status: 'up', mode: 'in-process' },
    });
  });

  it('answers readiness with 503 shutting_down during the graceful-shutdown window after SIGTERM, then stops', async () => {
    const { app, probe } = await startService({}, { gracefulShutdownTimeoutMs: 1_500 });
    apps.splice(apps.indexOf(app), 1);
    expect((await probe('/health/ready')).status).toBe(200);

    const started = Date.now();
    // What the shutdown hooks do on SIGTERM (process signals cannot be sent inside jest).
    const closing = (app as unknown as { close(signal: string): Promise<void> }).close('SIGTERM');
    const draining = await eventually('readiness to report the shutdown', async () => {
      const answer = await probe('/health/ready');
      return answer.status === 503 ? answer : undefined;
    });
    expect(draining.body.status).toBe('shutting_down');
    expect(Date.now() - started).toBeLessThan(1_500);

    await closing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500 - 50);
    await expect(probe('/health/ready', 1_000)).rejects.toThrow();
  });
});

describe('withTimeout', () => {
  it('rejects with an error naming the work once the timeout has elapsed', async () => {
    const started = Date.now();

    await expect(withTimeout(new Promise<never>(() => undefined), 150, 'slow thing')).rejects.toThrow(
      'slow thing timed out after 150 ms',
    );

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('settles as the work does when the work is faster, leaving no timer behind', async () => {
    jest.useFakeTimers();
    try {
      await expect(withTimeout(Promise.resolve(42), 60_000, 'fast')).resolves.toBe(42);
      await expect(withTimeout(Promise.reject(new Error('boom')), 60_000, 'failing')).rejects.toThrow('boom');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
