import { Platform, graphql, startPlatform } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { loggedLinesOf } from './support/logs';

const RATE_LIMIT_PER_IP = 40;

/** Nothing internal may reach a client: no stack frames, file paths or driver messages. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+|stacktrace|QueryFailedError/);
}

describe('gateway protection', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      gatewayEnv: {
        QUERY_MAX_DEPTH: '6',
        QUERY_MAX_COST: '300',
        BODY_LIMIT: '4kb',
        RATE_LIMIT_PER_IP: String(RATE_LIMIT_PER_IP),
        RATE_LIMIT_WINDOW_SECONDS: '60',
      },
    });
  });

  afterAll(async () => {
    await platform?.stop();
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
    let lastAllowed: Awaited<ReturnType<typeof graphql>> | undefined;
    for (let i = 0; i < RATE_LIMIT_PER_IP + 5; i += 1) {
      const result = await graphql(platform.gatewayUrl, '{ __typename }');
      statuses.push(result.status);
      if (result.status === 429) refused ??= result;
      else lastAllowed = result;
    }
    expect(statuses).not.toContain(500);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);
    expect(lastAllowed?.headers.get('x-ratelimit-limit')).toBe(String(RATE_LIMIT_PER_IP));
    expect(Number(lastAllowed?.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
    expect(Number(lastAllowed?.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused?.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
  });
});
