import { Platform, ServiceProcess, graphql } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { startGatewayFor } from './support/gateways';
import { loggedLinesOf } from './support/logs';
import { usePlatform } from './support/platforms';

const RATE_LIMIT_PER_IP = 40;

/** Nothing internal may reach a client: no stack frames, file paths or driver messages. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+|stacktrace|QueryFailedError/);
}

describe('gateway protection', () => {
  let platform: Pick<Platform, 'gatewayUrl' | 'auth'>;
  let limitedGateway: ServiceProcess | undefined;

  beforeAll(async () => {
    const shared = await usePlatform('default');
    // Small limits on a gateway of its own in front of the shared subgraphs (a platform of its own
    // would boot every service again). Its own Redis prefix: the per-IP window would otherwise hold
    // the shared gateway's requests from 127.0.0.1, and only revocation marks live there.
    limitedGateway = await startGatewayFor(shared, {
      REDIS_KEY_PREFIX: `${shared.redisKeyPrefix}limited-gateway:`,
      QUERY_MAX_DEPTH: '6',
      QUERY_MAX_COST: '300',
      BODY_LIMIT: '4kb',
      RATE_LIMIT_PER_IP: String(RATE_LIMIT_PER_IP),
      RATE_LIMIT_WINDOW_SECONDS: '60',
    });
    platform = { gatewayUrl: `${limitedGateway.url}/graphql`, auth: shared.auth };
  });

  afterAll(async () => {
    await limitedGateway?.stop();
  });

  it('answers malformed GraphQL with GRAPHQL_PARSE_FAILED and unknown fields with GRAPHQL_VALIDATION_FAILED', async () => {
    const malformed = await graphql(platform.gatewayUrl, '{ me { id ');
    expect(malformed.status).toBe(400);
    expect(malformed.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');

    const unknownField = await graphql(platform.gatewayUrl, '{ me { passwordHash } }');
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const notJson = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": "{ me { id } }"',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_REQUEST');

    for (const result of [malformed, unknownField]) expectNoInternals(result.text);
  });

  it('answers variables that do not fit the operation with BAD_USER_INPUT, never a 500', async () => {
    const login = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
    for (const input of [{ email: 'a@example.com', password: 'x', unknownField: 1 }, { email: 'a@example.com' }, { email: 42, password: ['x'] }]) {
      const result = await graphql(platform.gatewayUrl, login, { variables: { input } });
      expect([input, result.status, result.errors?.[0].extensions?.code]).toEqual([input, 400, 'BAD_USER_INPUT']);
      expectNoInternals(result.text);
    }
  });

  it('refuses too-deep queries before calling any subgraph', async () => {
    const deep = await graphql(
      platform.gatewayUrl,
      '{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }',
    );
    expect(deep.status).toBe(400);
    expect(deep.errors?.[0]).toMatchObject({
      message: 'Query depth 8 exceeds the limit of 6',
      extensions: { code: 'QUERY_TOO_COMPLEX' },
    });
  });

  it('refuses queries whose cost exceeds the limit, counting page sizes', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'costly');
    const costly = await graphql(
      platform.gatewayUrl,
      '{ tenantMembers(first: 100) { edges { cursor node { createdAt user { id displayName } role { name } } } } }',
      { token: account.accessToken },
    );
    expect(costly.status).toBe(400);
    expect(costly.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(costly.errors?.[0].message).toMatch(/^Query cost \d+ exceeds the limit of 300$/);
  });

  it('answers an oversized body with 413 PAYLOAD_TOO_LARGE', async () => {
    const result = await graphql(platform.gatewayUrl, `{ me { id } } # ${'x'.repeat(8 * 1024)}`);
    expect(result.status).toBe(413);
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(result.errors?.[0].message).toBe('Request body exceeds the limit of 4kb');
  });

  it('accepts a client request id, echoes it and passes it to the subgraph logs', async () => {
    const requestId = `e2e-request-${Date.now()}`;
    const result = await graphql(platform.gatewayUrl, '{ me { id } }', { headers: { 'x-request-id': requestId } });
    expect(result.headers.get('x-request-id')).toBe(requestId);
    expect(result.errors?.[0].extensions?.requestId).toBe(requestId);
    const authLogLines = await loggedLinesOf(platform.auth, requestId);
    expect(authLogLines.length).toBeGreaterThan(0);
    expect(JSON.parse(authLogLines[0])).toMatchObject({ service: 'auth', request_id: requestId, trace_id: expect.any(String) });
  });

  it('rate limits per IP with headers, then 429 with Retry-After', async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof graphql>> | undefined;
    const allowed: Awaited<ReturnType<typeof graphql>>[] = [];
    for (let i = 0; i < RATE_LIMIT_PER_IP + 5; i += 1) {
      const result = await graphql(platform.gatewayUrl, '{ __typename }');
      statuses.push(result.status);
      if (result.status === 429) refused ??= result;
      else if (!refused) allowed.push(result);
    }
    expect(statuses).not.toContain(500);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);
    // Every allowed answer carries the headers (a missing one must fail, not read as 0); the last before the refusal used the last request.
    expect(allowed.length).toBeGreaterThan(0);
    for (const result of allowed) {
      expect(result.headers.get('x-ratelimit-limit')).toBe(String(RATE_LIMIT_PER_IP));
      expect(result.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
      expect(result.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
      expect(Number(result.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    }
    const remaining = allowed.map((result) => Number(result.headers.get('x-ratelimit-remaining')));
    expect(remaining.at(-1)).toBe(0);
    expect(refused?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused?.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });
});
