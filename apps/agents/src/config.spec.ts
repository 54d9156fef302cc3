import { ConfigError, loadConfig } from '@multipult/config';
import { agentsConfigSchema } from './config';

const BASE = { DATABASE_URL: 'postgres://app@db:5432/app', AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' };
const PRODUCTION = { ...BASE, NODE_ENV: 'production', REDIS_URL: 'redis://r:6379', KAFKA_BROKERS: 'k:9092' };
const PROVIDERS = JSON.stringify({ local: { baseUrl: 'http://vllm:8000/v1', models: { 'qwen2.5': { inputUsdPerMTok: 0.1 }, '*': {} } } });

describe('agents service configuration', () => {
  it('parses model providers with defaults for prices and context windows', () => {
    const config = loadConfig(agentsConfigSchema, { ...BASE, AGENTS_MODEL_PROVIDERS: PROVIDERS });
    expect(config.AGENTS_MODEL_PROVIDERS).toEqual({
      local: {
        baseUrl: 'http://vllm:8000/v1',
        apiKey: 'not-needed',
        models: {
          'qwen2.5': { inputUsdPerMTok: 0.1, outputUsdPerMTok: 0, contextTokens: 8192, embeddings: false },
          '*': { inputUsdPerMTok: 0, outputUsdPerMTok: 0, contextTokens: 8192, embeddings: false },
        },
      },
    });
    expect(config.AGENTS_COMMAND_ALLOWLIST).toContain('grep');
  });

  it('refuses providers that are not JSON, lack a model, or use another protocol, naming the problem', () => {
    expect(() => loadConfig(agentsConfigSchema, { ...BASE, AGENTS_MODEL_PROVIDERS: '{oops' })).toThrow(/AGENTS_MODEL_PROVIDERS.*must be JSON/);
    expect(() => loadConfig(agentsConfigSchema, { ...BASE, AGENTS_MODEL_PROVIDERS: JSON.stringify({ local: { baseUrl: 'http://x/v1', models: {} } }) })).toThrow(
      /must name at least one model/,
    );
    expect(() => loadConfig(agentsConfigSchema, { ...BASE, AGENTS_MODEL_PROVIDERS: JSON.stringify({ local: { baseUrl: 'ftp://x/v1', models: { m: {} } } }) })).toThrow(ConfigError);
  });

  it('refuses production without a real model, since the scripted one is for trying the platform only', () => {
    expect(() => loadConfig(agentsConfigSchema, PRODUCTION)).toThrow(/AGENTS_MODEL_PROVIDERS.*production/);
    expect(loadConfig(agentsConfigSchema, { ...PRODUCTION, AGENTS_MODEL_PROVIDERS: PROVIDERS }).NODE_ENV).toBe('production');
  });

  it('keeps running tasks below the database pool, so requests still get connections', () => {
    expect(() => loadConfig(agentsConfigSchema, { ...BASE, AGENTS_TASK_CONCURRENCY: '10', DATABASE_POOL_MAX: '10' })).toThrow(/AGENTS_TASK_CONCURRENCY must be below DATABASE_POOL_MAX/);
    expect(loadConfig(agentsConfigSchema, { ...BASE, AGENTS_TASK_CONCURRENCY: '32', DATABASE_POOL_MAX: '48' }).AGENTS_TASK_CONCURRENCY).toBe(32);
  });
});
