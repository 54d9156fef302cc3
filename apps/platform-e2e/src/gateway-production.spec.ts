import { Platform, SmtpCapture, graphql, startPlatform, startSmtpCapture } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { readMetric } from './support/metrics';
import { loggedStatements } from './support/logs';

const ALLOWED_ORIGIN = 'https://app.example.com';

describe('gateway in production mode', () => {
  let platform: Platform;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    platform = await startPlatform({
      env: { NODE_ENV: 'production', EMAIL_TOKEN_SEAL_KEY: 'e2e-production-email-token-seal-key-0123456789' },
      authEnv: {
        SIGNING_KEY_SECRET: 'e2e-production-signing-key-secret-0123456789',
        FILE_LINK_SECRET: 'e2e-production-file-link-secret-0123456789',
        LOG_LEVEL: 'debug',
      },
      notificationsEnv: { SMTP_URL: smtp.url, WEBHOOK_SECRET_KEY: 'e2e-production-webhook-secret-key-0123456789' },
      gatewayEnv: { CORS_ORIGINS: ALLOWED_ORIGIN, RATE_LIMIT_PER_IP: '3', RATE_LIMIT_ALLOWLIST: '127.0.0.1,::ffff:127.0.0.1' },
    });
  });

  afterAll(async () => {
    await platform?.stop();
    await smtp?.stop();
  });

  it('turns introspection off', async () => {
    const result = await graphql(platform.gatewayUrl, '{ __schema { queryType { name } } }');
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
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
    const result = await graphql<{ _entities: ({ id: string; displayName: string } | null)[] }>(
      platform.authUrl,
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id displayName } } }`,
      {
        token: accounts[0].accessToken,
        variables: { representations: ids.map((id) => ({ __typename: 'User', id })) },
        headers: { 'x-request-id': requestId },
      },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities).toEqual([
      { id: accounts[2].userId, displayName: 'e3' },
      null,
      { id: accounts[0].userId, displayName: 'e1' },
      { id: accounts[1].userId, displayName: 'e2' },
    ]);
    // One SELECT for all four references (the token check touches Redis, not PostgreSQL).
    const statements = await loggedStatements(platform.auth, requestId);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('SELECT');
    expect(await readMetric(platform.auth.url, 'db_statements_total', { pool: 'auth', outcome: 'ok' })).toBeGreaterThan(0);
  });
});
