import { Platform, graphql } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { readMetric } from './support/metrics';
import { loggedStatements } from './support/logs';
import { PRODUCTION_ALLOWED_ORIGIN as ALLOWED_ORIGIN, usePlatform } from './support/platforms';

describe('gateway in production mode', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('production');
  });

  it('turns introspection off', async () => {
    const result = await graphql(platform.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('names no schema fields, types or enum values in errors, at the gateway or at a subgraph reached directly', async () => {
    const field = '{ me { emial } }';
    const enumValue = 'mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }';
    const input = { title: 'T', body: 'B', type: 'ARTICL', language: 'en' };
    for (const result of [
      await graphql(platform.gatewayUrl, field),
      await graphql(platform.authUrl, field),
      await graphql(platform.gatewayUrl, enumValue, { variables: { input } }),
      await graphql(`${platform.content.url}/graphql`, enumValue, { variables: { input } }),
    ]) {
      expect(result.status).toBe(400);
      expect(result.errors?.[0].extensions?.code).toMatch(/^(GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT)$/);
      expect(result.text).not.toMatch(/Did you mean|"email"|"ARTICLE"/);
    }
  });

  it('keeps subgraph connections alive longer than callers pool them (no "socket hang up" after idling)', async () => {
    for (const service of [platform.auth, platform.content, platform.gateway]) {
      const response = await fetch(`${service.url}/health/live`);
      expect(response.headers.get('keep-alive')).toBe('timeout=65');
    }
  });

  it('serves no landing page and sends security headers', async () => {
    const page = await fetch(platform.gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(400);
    expect(await page.text()).not.toMatch(/<html/i);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('strict-transport-security')).toContain('max-age=');
    expect(page.headers.get('x-powered-by')).toBeNull();
  });

  it('answers CORS preflights for configured origins only', async () => {
    const preflight = (origin: string) =>
      fetch(platform.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const refused = await preflight('https://evil.example.com');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers GraphQL requests from configured origins with CORS headers, and others without', async () => {
    const ask = (origin: string) =>
      fetch(platform.gatewayUrl, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    const allowed = await ask(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-RateLimit-Remaining');
    expect(allowed.headers.get('x-powered-by')).toBeNull();
    const refused = await ask('https://evil.example.com');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exempts allowlisted clients from rate limits', async () => {
    const statuses = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await graphql(platform.gatewayUrl, '{ __typename }')).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('resolves User entities in batches, in the order asked, null for unknown ids', async () => {
    const accounts = await Promise.all(['e1', 'e2', 'e3'].map((name) => registerAccount(platform.gatewayUrl, name)));
    const unknown = '00000000-0000-4000-8000-000000000000';
    const ids = [accounts[2].userId, unknown, accounts[0].userId, accounts[1].userId];
    const requestId = `entities-${Date.now()}`;
    const resolveAs = (callRequestId: string) =>
      graphql<{ _entities: ({ id: string; displayName: string } | null)[] }>(
        platform.authUrl,
        `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id displayName } } }`,
        {
          token: accounts[0].accessToken,
          variables: { representations: ids.map((id) => ({ __typename: 'User', id })) },
          headers: { 'x-request-id': callRequestId },
        },
      );
    const result = await resolveAs(requestId);
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: accounts[2].userId, displayName: 'e3' },
      null,
      { id: accounts[0].userId, displayName: 'e1' },
      { id: accounts[1].userId, displayName: 'e2' },
    ]);
    // One SELECT for all four references (the token check touches Redis, not PostgreSQL).
    const statements = await loggedStatements(platform.auth, requestId, resolveAs);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('SELECT');
    expect(await readMetric(platform.auth.metricsUrl, 'db_statements_total', { pool: 'auth', outcome: 'ok' })).toBeGreaterThan(0);
  });

  it('serves /metrics only on the metrics port, never on the public one', async () => {
    for (const service of [platform.gateway, ...Object.values(platform.services)]) {
      expect({ service: service.name, status: (await fetch(`${service.url}/metrics`)).status }).toEqual({ service: service.name, status: 404 });
      const scrape = await fetch(service.metricsUrl);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain(`process_resident_memory_bytes{service="${service.name}"}`);
    }
  });
});
