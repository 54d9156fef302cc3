import { randomUUID } from 'node:crypto';
import { GraphQLErrorBody, GraphQLResult, Platform, ServiceProcess, connectRealtime, graphql, graphqlData } from '@multipult/testing';
import { PASSWORD, REGISTER, createTenantFor, registerAccount } from './support/accounts';
import { loggedLinesOf } from './support/logs';
import { usePlatform } from './support/platforms';

const CREATE_DOCUMENT = `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`;
/** A valid document but for the field a test spoils. */
const DOCUMENT = { title: 'Report', body: 'text', type: 'ARTICLE', language: 'en' };
const SEARCH_BY_VARIABLE = `query($input: SearchDocumentsInput!) { searchDocuments(input: $input) { totalCount } }`;
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const CREATE_WEBHOOK = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;

const SUBGRAPHS = ['auth', 'content', 'export', 'agents', 'notifications'] as const;

/** The answer is BAD_USER_INPUT naming the field, and the subgraph that refused it logged the refusal at warn level. */
async function expectRefused(result: GraphQLResult<unknown>, field: string, constraint: string, service: ServiceProcess): Promise<void> {
  expect(result.errors).toHaveLength(1);
  const [error] = result.errors ?? [];
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.extensions?.fields).toEqual([expect.objectContaining({ field, constraint })]);
  expect(result.text).not.toMatch(/INTERNAL|QueryFailedError|invalid byte sequence/);
  const lines = await loggedLinesOf(service, error.extensions?.requestId as string);
  expect(lines.some((line) => line.includes('"level":"warn"') && line.includes('rejected input') && line.includes(field))).toBe(true);
}

describe('hostile text (NUL, unpaired surrogates) through the gateway', () => {
  let platform: Platform;
  let owner: { token: string; tenantId: string };

  beforeAll(async () => {
    platform = await usePlatform('default');
    owner = await createTenantFor(platform.gatewayUrl, await registerAccount(platform.gatewayUrl, 'hostile')).then((tenant) => ({
      token: tenant.accessToken,
      tenantId: tenant.tenantId,
    }));
  });

  const asOwner = (query: string, variables?: Record<string, unknown>) => graphql(platform.gatewayUrl, query, { token: owner.token, variables });

  it('content: refuses NUL in a document title and in a search query, inline or as a variable, and stores nothing', async () => {
    await expectRefused(await asOwner(CREATE_DOCUMENT, { input: { ...DOCUMENT, title: 'Report\u0000' } }), 'input.title', 'noNul', platform.content);
    await expectRefused(
      await asOwner(`mutation { createDocument(input: { title: "ok", body: "a\\u0000b", type: ARTICLE, language: "en" }) { document { id } } }`),
      'input.body',
      'noNul',
      platform.content,
    );
    await expectRefused(await asOwner(`{ searchDocuments(input: { query: "fox\\u0000" }) { totalCount } }`), 'input.query', 'noNul', platform.content);
    await expectRefused(await asOwner(SEARCH_BY_VARIABLE, { input: { query: 'fox\u0000' } }), 'input.query', 'noNul', platform.content);
    await expectRefused(await asOwner(CREATE_DOCUMENT, { input: { ...DOCUMENT, title: 'half \ud800 pair' } }), 'input.title', 'wellFormedText', platform.content);

    // Over /graphql/ws the gateway hands the operation to content's socket server, which refuses it the same way.
    const realtime = connectRealtime(platform.realtimeUrl, { authorization: `Bearer ${owner.token}` });
    try {
      const overSocket = await realtime.execute(CREATE_DOCUMENT, { input: { ...DOCUMENT, title: 'Live\u0000' } });
      const [error] = (overSocket.errors ?? []) as GraphQLErrorBody[];
      expect(overSocket.data ?? null).toBeNull();
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'input.title', constraint: 'noNul' })] });
    } finally {
      await realtime.dispose();
    }

    const documents = await graphqlData<{ documents: { edges: unknown[] } }>(platform.gatewayUrl, `{ documents(first: 10) { edges { node { id } } } }`, {
      token: owner.token,
    });
    expect(documents.documents.edges).toEqual([]);
  });

  it('auth: refuses NUL in a display name and a sign-in email; the account is not created', async () => {
    const email = `hostile-${randomUUID()}@example.com`;
    await expectRefused(
      await graphql(platform.gatewayUrl, REGISTER, { variables: { input: { email, password: PASSWORD, displayName: 'Eve\u0000' } } }),
      'input.displayName',
      'noNul',
      platform.auth,
    );
    await expectRefused(
      await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email: `${email}\u0000`, password: PASSWORD } } }),
      'input.email',
      'noNul',
      platform.auth,
    );
    await expectRefused(
      await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email, password: `${PASSWORD}\ud800` } } }),
      'input.password',
      'wellFormedText',
      platform.auth,
    );

    const login = await graphql(platform.gatewayUrl, LOGIN, { variables: { input: { email, password: PASSWORD } } });
    expect(login.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    // The address is still free.
    await graphqlData(platform.gatewayUrl, REGISTER, { variables: { input: { email, password: PASSWORD, displayName: 'Eve' } } });
  });

  it('notifications: refuses NUL in a webhook endpoint and stores none', async () => {
    await expectRefused(
      await asOwner(CREATE_WEBHOOK, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], description: 'mine\u0000' } }),
      'input.description',
      'noNul',
      platform.notifications,
    );
    await expectRefused(
      await asOwner(CREATE_WEBHOOK, { input: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*', 'x\u0000'] } }),
      'input.eventTypes[1]',
      'noNul',
      platform.notifications,
    );
    const endpoints = await graphqlData<{ webhookEndpoints: unknown[] }>(platform.gatewayUrl, `{ webhookEndpoints { id } }`, { token: owner.token });
    expect(endpoints.webhookEndpoints).toEqual([]);
  });

  it('every subgraph sends the security headers and no X-Powered-By, on a malformed body (400), an oversized one (413), a 404 and /health/live', async () => {
    for (const service of SUBGRAPHS) {
      const url = platform.urls[service];
      const origin = new URL(url).origin;
      const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const answers = {
        malformed: await post('{"query": "{ __typename }"'),
        tooLarge: await post(JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(2 * 1024 * 1024) } })),
        notFound: await fetch(`${origin}/nowhere`),
        health: await fetch(`${origin}/health/live`),
      };
      expect({ service, statuses: Object.values(answers).map((answer) => answer.status) }).toEqual({ service, statuses: [400, 413, 404, 200] });
      for (const [name, answer] of Object.entries(answers)) {
        const headers = {
          poweredBy: answer.headers.get('x-powered-by'),
          csp: answer.headers.get('content-security-policy'),
          noSniff: answer.headers.get('x-content-type-options'),
          frames: answer.headers.get('x-frame-options'),
          hsts: answer.headers.get('strict-transport-security'),
        };
        expect({ service, name, headers }).toEqual({
          service,
          name,
          headers: { poweredBy: null, csp: expect.stringContaining("default-src 'self'"), noSniff: 'nosniff', frames: 'SAMEORIGIN', hsts: expect.stringMatching(/^max-age=/) },
        });
      }
      expect(await answers.malformed.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
      expect(await answers.tooLarge.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
  });
});
