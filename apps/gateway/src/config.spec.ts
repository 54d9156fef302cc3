import { ConfigError, loadConfig } from '@multipult/config';
import { gatewayConfigSchema } from './config';

const base = { AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' };

describe('gateway configuration', () => {
  it('parses the subgraph list', () => {
    const config = loadConfig(gatewayConfigSchema, { ...base, SUBGRAPHS: 'auth=http://auth:4001/graphql, content=http://content:4002/graphql' });
    expect(config.SUBGRAPHS).toEqual([
      { name: 'auth', url: 'http://auth:4001/graphql' },
      { name: 'content', url: 'http://content:4002/graphql' },
    ]);
  });

  it('needs a supergraph file or subgraphs, and names the variable', () => {
    expect(() => loadConfig(gatewayConfigSchema, base)).toThrow(new ConfigError(['SUPERGRAPH_PATH or SUBGRAPHS is required']));
    expect(() => loadConfig(gatewayConfigSchema, { ...base, SUBGRAPHS: 'auth' })).toThrow(/SUBGRAPHS must be a comma-separated list/);
  });

  it('requires Redis in production', () => {
    expect(() =>
      loadConfig(gatewayConfigSchema, { ...base, NODE_ENV: 'production', SUPERGRAPH_PATH: '/app/supergraph.graphql' }),
    ).toThrow('REDIS_URL is required in production');
  });

  it('checks the supergraph file every 5 seconds unless told otherwise, never with 0', () => {
    const file = { ...base, SUPERGRAPH_PATH: '/app/supergraph.graphql' };
    expect(loadConfig(gatewayConfigSchema, file).SUPERGRAPH_WATCH_SECONDS).toBe(5);
    expect(loadConfig(gatewayConfigSchema, { ...file, SUPERGRAPH_WATCH_SECONDS: '0' }).SUPERGRAPH_WATCH_SECONDS).toBe(0);
    expect(loadConfig(gatewayConfigSchema, { ...file, SUPERGRAPH_WATCH_SECONDS: '0.5' }).SUPERGRAPH_WATCH_SECONDS).toBe(0.5);
    expect(() => loadConfig(gatewayConfigSchema, { ...file, SUPERGRAPH_WATCH_SECONDS: '-1' })).toThrow(/SUPERGRAPH_WATCH_SECONDS/);
  });

  it('limits aliases, directives and tokens by default, and refuses limits that are not positive integers', () => {
    const file = { ...base, SUPERGRAPH_PATH: '/app/supergraph.graphql' };
    expect(loadConfig(gatewayConfigSchema, file)).toMatchObject({ GRAPHQL_MAX_ALIASES: 30, GRAPHQL_MAX_DIRECTIVES: 50, GRAPHQL_MAX_TOKENS: 5000 });
    expect(loadConfig(gatewayConfigSchema, { ...file, GRAPHQL_MAX_ALIASES: '100' }).GRAPHQL_MAX_ALIASES).toBe(100);
    for (const [name, value] of [['GRAPHQL_MAX_ALIASES', '0'], ['GRAPHQL_MAX_DIRECTIVES', 'many'], ['GRAPHQL_MAX_TOKENS', '2.5']]) {
      expect(() => loadConfig(gatewayConfigSchema, { ...file, [name]: value })).toThrow(new RegExp(name));
    }
  });

  it('takes a body limit only as a size', () => {
    const file = { ...base, SUPERGRAPH_PATH: '/app/supergraph.graphql' };
    expect(loadConfig(gatewayConfigSchema, file).BODY_LIMIT).toBe('1mb');
    expect(loadConfig(gatewayConfigSchema, { ...file, BODY_LIMIT: '512kb' }).BODY_LIMIT).toBe('512kb');
    expect(() => loadConfig(gatewayConfigSchema, { ...file, BODY_LIMIT: 'one megabyte' })).toThrow('BODY_LIMIT must be a size such as 512kb or 1mb');
  });
});
