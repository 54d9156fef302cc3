import { z } from 'zod';
import {
  baseEnv,
  databaseEnv,
  emailTokenSealEnv,
  kafkaEnv,
  redisEnv,
  requireEmailTokenSealKeyInProduction,
  requireSharedInfrastructureInProduction,
  requireSocketTimeoutAboveStatementTimeout,
  retiredEnv,
} from './env-fragments';
import { ConfigError, loadConfig } from './load-config';

const schema = z
  .object({ ...baseEnv, ...databaseEnv, ...redisEnv, ...kafkaEnv, PORT: z.coerce.number().int().default(4001) })
  .superRefine(requireSharedInfrastructureInProduction);

describe('loadConfig', () => {
  it('applies defaults and coerces types', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://u@localhost/db', KAFKA_BROKERS: 'a:9092, b:9092' });
    expect(config.PORT).toBe(4001);
    expect(config.NODE_ENV).toBe('development');
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(config.DATABASE_MIGRATIONS_RUN).toBe(true);
  });

  it('names a missing variable in one line', () => {
    expect(() => loadConfig(schema, {})).toThrow(new ConfigError(['DATABASE_URL is required']));
  });

  it('names every wrong variable with the reason', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig(schema, { DATABASE_URL: 'mysql://x', PORT: 'abc', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message.split('\n')).toHaveLength(1);
    expect(error?.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect(error?.message).toContain('DATABASE_URL must be a URL starting with postgres:// or postgresql://');
  });

  it('treats empty strings as unset so defaults apply', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://h/db', PORT: '' }).PORT).toBe(4001);
  });

  it('requires Redis and Kafka in production', () => {
    expect(() => loadConfig(schema, { NODE_ENV: 'production', DATABASE_URL: 'postgres://h/db' })).toThrow(
      'REDIS_URL is required in production; KAFKA_BROKERS is required in production',
    );
  });

  it('keeps the database socket timeout above every wait a statement may have on the server', () => {
    const database = z.object({ ...databaseEnv }).superRefine(requireSocketTimeoutAboveStatementTimeout);
    const url = 'postgres://u@localhost/db';
    expect(loadConfig(database, { DATABASE_URL: url })).toMatchObject({ DATABASE_STATEMENT_TIMEOUT_MS: 15_000, DATABASE_SOCKET_TIMEOUT_MS: 45_000 });
    expect(() => loadConfig(database, { DATABASE_URL: url, DATABASE_SOCKET_TIMEOUT_MS: '30000' })).toThrow(/DATABASE_SOCKET_TIMEOUT_MS .*35000/);
    expect(() => loadConfig(database, { DATABASE_URL: url, DATABASE_STATEMENT_TIMEOUT_MS: '60000' })).toThrow(
      /DATABASE_SOCKET_TIMEOUT_MS must be at least DATABASE_STATEMENT_TIMEOUT_MS \+ 5000 \(65000\)/,
    );
    expect(loadConfig(database, { DATABASE_URL: url, DATABASE_STATEMENT_TIMEOUT_MS: '60000', DATABASE_SOCKET_TIMEOUT_MS: '65000' }).DATABASE_SOCKET_TIMEOUT_MS).toBe(65_000);
  });

  it('reads `none` as an empty list (an empty variable is unset) and refuses it among other items', () => {
    const env = { DATABASE_URL: 'postgres://h/db' };
    expect(loadConfig(schema, { ...env, KAFKA_BROKERS: 'none' }).KAFKA_BROKERS).toEqual([]);
    expect(loadConfig(schema, { ...env, KAFKA_BROKERS: '' }).KAFKA_BROKERS).toBeUndefined();
    expect(() => loadConfig(schema, { ...env, KAFKA_BROKERS: 'none,127.0.0.1:9092' })).toThrow(/KAFKA_BROKERS `none` is the whole value/);
  });

  it('takes only GraphQL names as metrics operation names', () => {
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://h/db' }).METRICS_OPERATION_NAMES).toEqual([]);
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://h/db', METRICS_OPERATION_NAMES: 'Me, Documents' }).METRICS_OPERATION_NAMES).toEqual(['Me', 'Documents']);
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgres://h/db', METRICS_OPERATION_NAMES: 'Me,not-a-name' })).toThrow(/METRICS_OPERATION_NAMES/);
  });

  it('refuses the development email token seal key in production', () => {
    const sealed = z.object({ ...baseEnv, ...emailTokenSealEnv }).superRefine(requireEmailTokenSealKeyInProduction);
    expect(loadConfig(sealed, {}).EMAIL_TOKEN_SEAL_KEY.length).toBeGreaterThanOrEqual(32);
    expect(() => loadConfig(sealed, { NODE_ENV: 'production' })).toThrow('EMAIL_TOKEN_SEAL_KEY must be set to a secret of your own in production');
    expect(() => loadConfig(sealed, { EMAIL_TOKEN_SEAL_KEY: 'short' })).toThrow(/EMAIL_TOKEN_SEAL_KEY/);
    expect(loadConfig(sealed, { NODE_ENV: 'production', EMAIL_TOKEN_SEAL_KEY: 'x'.repeat(32) }).EMAIL_TOKEN_SEAL_KEY).toBe('x'.repeat(32));
  });

  it('names the replacement of a retired variable that is still set', () => {
    const withRetired = z.object({ ...databaseEnv, ...retiredEnv({ OLD_POLL_MS: 'NEW_POLL_SECONDS' }) });
    expect(() => loadConfig(withRetired, { DATABASE_URL: 'postgres://h/db', OLD_POLL_MS: '100' })).toThrow(
      'OLD_POLL_MS is no longer read: set NEW_POLL_SECONDS instead',
    );
    expect(loadConfig(withRetired, { DATABASE_URL: 'postgres://h/db' }).DATABASE_URL).toBe('postgres://h/db');
  });
});
