import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { loadConfig } from '@multipult/config';
import { serviceEntry } from '@multipult/registry';
import { createTestDatabase } from './database';

/** A subgraph's whole app module, initialised (not listening), on a database of its own. */
export interface SubgraphTestApp<C> {
  app: INestApplication;
  /** http://127.0.0.1:<port> when started with `listen`, for specs of the service's HTTP routes. */
  url?: string;
  config: C;
  dataSource: DataSource;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

/**
 * Builds a subgraph's AppModule as its main.ts does (the kit runs the event and service migrations)
 * against the real PostgreSQL and Redis of the jest global setup, for service-level specs: a fresh
 * database and Redis key prefix per call, the registry's test settings for the service, then `env`.
 *
 * Events travel in process (no KAFKA_BROKERS): the service's consumer groups would otherwise be
 * shared on one broker by every spec file and e2e run at once, and take each other's messages. The
 * outbox, the relay and the consumers' inbox are the real ones; Kafka itself is covered by
 * libs/events and apps/platform-e2e.
 */
export async function startSubgraphTestApp<S extends z.ZodObject>(options: {
  service: string;
  /** Names the database and key prefix, so a failing spec's leftovers are easy to find. */
  name: string;
  configSchema: S;
  appModule: (config: z.infer<S>) => DynamicModule;
  env?: Record<string, string>;
  /**
   * Serve the app's HTTP routes on a free loopback port, after `listen` configured it as main.ts
   * does (configureServiceApp: body parsing with the raw body kept, validation).
   */
  listen?: (app: INestApplication, config: z.infer<S>) => void;
}): Promise<SubgraphTestApp<z.infer<S>>> {
  const entry = serviceEntry(options.service);
  const database = await createTestDatabase(`${entry.schema}_${options.name}`);
  let app: INestApplication | undefined;
  try {
    const config = loadConfig(options.configSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `test:${options.service}-${options.name}:${randomBytes(4).toString('hex')}:`,
      OUTBOX_POLL_INTERVAL_MS: '50',
      // Verifiers need a JWKS address at start-up; nothing is verified in a service-level spec.
      ...(entry.issuesTokens ? {} : { AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json' }),
      ...entry.testEnv,
      ...options.env,
    });
    const moduleRef = await Test.createTestingModule({ imports: [options.appModule(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: false, bodyParser: !options.listen });
    if (options.listen) {
      options.listen(app, config);
      await app.listen(0, '127.0.0.1');
    } else {
      await app.init();
    }
    const started = app;
    const address = options.listen ? (started.getHttpServer().address() as AddressInfo) : undefined;
    return {
      app: started,
      url: address ? `http://127.0.0.1:${address.port}` : undefined,
      config,
      dataSource: started.get<DataSource>(getDataSourceToken()),
      get: (type) => started.get(type),
      close: async () => {
        await started.close();
        await database.drop();
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.drop();
    throw error;
  }
}
