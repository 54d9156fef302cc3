import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventContract } from '@multipult/events';
import { RequestContext } from '@multipult/observability';
import { AppError } from '@multipult/graphql';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { SubgraphTestApp, startSubgraphTestApp } from '@multipult/testing';
import { AUTH_SERVICE, AppModule } from '../app.module';
import { AuthConfig, authConfigSchema } from '../config';

/** The whole auth app module on a database of its own, and its Redis store. */
export interface AuthTestApp extends SubgraphTestApp<AuthConfig> {
  /** The app's Redis store: keys are read through it, so under the app's own key prefix. */
  store: FastStore;
}

/** Auth for service-level specs (see startSubgraphTestApp); `env` overrides the test values (limits, timeouts). */
export async function startAuthTestApp(name: string, env: Record<string, string> = {}): Promise<AuthTestApp> {
  const auth = await startSubgraphTestApp({ service: AUTH_SERVICE, name, configSchema: authConfigSchema, appModule: AppModule.forRoot, env });
  return { ...auth, store: auth.app.get<FastStore>(FAST_STORE) };
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
