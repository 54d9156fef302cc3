import { ConfigError, loadConfig } from '@multipult/config';
import { exportConfigSchema } from './config';

const BASE = { DATABASE_URL: 'postgres://app@db:5432/app', AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' };

describe('export service configuration', () => {
  it('keeps files in a local directory by default and reads the content subgraph from the registry', () => {
    expect(loadConfig(exportConfigSchema, BASE)).toMatchObject({ EXPORT_STORAGE: 'local', EXPORT_STORAGE_DIR: 'var/exports', CONTENT_GRAPHQL_URL: 'http://127.0.0.1:4002/graphql' });
  });

  it('takes an S3-compatible store by config, with its bucket and both keys or none', () => {
    expect(
      loadConfig(exportConfigSchema, { ...BASE, EXPORT_STORAGE: 's3', EXPORT_S3_BUCKET: 'exports', EXPORT_S3_ENDPOINT: 'http://minio:9000', EXPORT_S3_FORCE_PATH_STYLE: 'true' }),
    ).toMatchObject({ EXPORT_STORAGE: 's3', EXPORT_S3_BUCKET: 'exports', EXPORT_S3_FORCE_PATH_STYLE: true, EXPORT_S3_PREFIX: 'exports/' });
    expect(() => loadConfig(exportConfigSchema, { ...BASE, EXPORT_STORAGE: 's3' })).toThrow(/EXPORT_S3_BUCKET is required when EXPORT_STORAGE is s3/);
    expect(() => loadConfig(exportConfigSchema, { ...BASE, EXPORT_STORAGE: 's3', EXPORT_S3_BUCKET: 'exports', EXPORT_S3_ACCESS_KEY_ID: 'key' })).toThrow(ConfigError);
  });

  it('refuses production without its own secrets', () => {
    expect(() => loadConfig(exportConfigSchema, { ...BASE, NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', KAFKA_BROKERS: 'k:9092' })).toThrow(
      /FILE_LINK_SECRET must be set in production.*INTERNAL_API_SECRET must be set in production.*JIRA_TOKEN_SEAL_KEY/,
    );
  });
});
