import { randomBytes, randomUUID } from 'node:crypto';
import { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { loadConfig } from '@multipult/config';
import { EventContract } from '@multipult/events';
import { RequestContext } from '@multipult/observability';
import { AppError } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { serviceEntry } from '@multipult/registry';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { AUTH_SERVICE, AppModule } from '../app.module';
import { AuthConfig, authConfigSchema } from '../config';

/** The whole auth app module, initialised (not listening), on a database of its own. */
export interface AuthTestApp {
  app: INestApplication;
  config: AuthConfig;
  dataSource: DataSource;
  /** The app's Redis store: keys are read through it, so under the app's own key prefix. */
  store: FastStore;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

/**
 * Builds auth's AppModule as main.ts does (SubgraphModule.forRoot runs the event and auth migrations)
 * against the real PostgreSQL and Redis of the jest global setup, for service-level specs.
 *
 * Events travel in process (no KAFKA_BROKERS): auth's consumer groups (auth.privacy, ...) would
 * otherwise be shared on one broker by every spec file and e2e run at once, and take each other's
 * messages. The outbox, the relay and the consumers' inbox are the real ones; Kafka itself is
 * covered by libs/events and apps/platform-e2e. `env` overrides the test values (limits, timeouts).
 */
export async function startAuthTestApp(name: string, env: Record<string, string> = {}): Promise<AuthTestApp> {
  const database: TestDatabase = await createTestDatabase(`auth_${name}`);
  try {
    const config = loadConfig(authConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `test:auth-${name}:${randomBytes(4).toString('hex')}:`,
      OUTBOX_POLL_INTERVAL_MS: '50',
      // What the registry gives auth in every test run (the cheapest password hashing allowed).
      ...serviceEntry(AUTH_SERVICE).testEnv,
      ...env,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return {
      app,
      config,
      dataSource: app.get<DataSource>(getDataSourceToken()),
      store: app.get<FastStore>(FAST_STORE),
      get: (type) => app.get(type),
      close: async () => {
        await app.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** Runs `work` as a request from `clientIp` would (the context sign-ins read the IP and agent from). */
export function asRequestFrom<T>(clientIp: string, work: () => Promise<T>, userAgent = 'auth-spec'): Promise<T> {
  return RequestContext.run(
    { requestId: randomUUID(), traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`, locales: [], clientIp, userAgent },
    work,
  );
}

export interface OutboxEvent<P = Record<string, unknown>> {
  id: string;
  aggregateId: string;
  payload: P;
  /** Position in the outbox: events of one transaction keep their order. */
  sequence: number;
}

/** The events of one contract in the auth outbox, in the order they were written. */
export async function outboxEvents<P>(dataSource: DataSource, contract: EventContract<P>): Promise<OutboxEvent<P>[]> {
  const rows: { id: string; message_key: string; envelope: { payload: P }; sequence_number: string }[] = await dataSource.query(
    'SELECT id, message_key, envelope, sequence_number FROM outbox WHERE event_type = $1 ORDER BY sequence_number',
    [contract.type],
  );
  return rows.map((row) => ({ id: row.id, aggregateId: row.message_key, payload: row.envelope.payload, sequence: Number(row.sequence_number) }));
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  tid: string | null;
  /** Permissions per tenant. */
  ten: Record<string, string[]>;
  iat: number;
}

/** What an access token says; its signature is the verifier's business, not these specs'. */
export function accessTokenClaims(accessToken: string): AccessTokenClaims {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as AccessTokenClaims;
}

/** The session an access token was issued for. */
export const sessionIdOf = (accessToken: string): string => accessTokenClaims(accessToken).sid;

/** The typed error a call refuses with; fails the test when it succeeds or throws something else. */
export async function errorOf(attempt: Promise<unknown>): Promise<AppError> {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}
