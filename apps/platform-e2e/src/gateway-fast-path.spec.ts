import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Client } from 'pg';
import { Platform, ServiceProcess, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { startGatewayFor } from './support/gateways';
import { loggedLinesOf } from './support/logs';
import { readMetric } from './support/metrics';
import { usePlatform } from './support/platforms';

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | null>;
}

/** Headers a client or browser relies on; both gateways must send the same ones. */
const COMPARED_HEADERS = [
  'content-type',
  'x-content-type-options',
  'strict-transport-security',
  'content-security-policy',
  'x-frame-options',
  'x-powered-by',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'www-authenticate',
  'x-ratelimit-limit',
];

/** Request ids differ per request; everything else of an answer must match. */
function withoutRequestIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutRequestIds);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'requestId').map(([key, item]) => [key, withoutRequestIds(item)]));
}

async function post(url: string, body: object, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:3000', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Compared as text.
  }
  return {
    status: response.status,
    body: withoutRequestIds(parsed),
    headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)])),
  };
}

describe('GraphQL fast path', () => {
  let platform: Platform;
  let apolloOnly: ServiceProcess;
  let token: string;
  let documentId: string;
  /** A tenant whose only document's owner is unknown to auth: its User entity resolves to null. */
  let orphanedToken: string;

  beforeAll(async () => {
    platform = await usePlatform('default');
    // The same supergraph and subgraphs behind a second gateway that sends everything through Apollo Server.
    apolloOnly = await startGatewayFor(platform, {
      SUBGRAPHS: Object.entries(platform.urls).map(([name, url]) => `${name}=${url}`).join(','),
      GRAPHQL_FAST_PATH: 'false',
    });
    const account = await registerAccount(platform.gatewayUrl, 'fast-path');
    token = (await createTenantFor(platform.gatewayUrl, account)).accessToken;
    const created = await graphqlData<{ createDocument: { document: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { token, variables: { input: { title: 'Fast path', body: 'Answered the same either way.', type: 'ARTICLE', language: 'en' } } },
    );
    documentId = created.createDocument.document.id;

    const orphaned = await registerAccount(platform.gatewayUrl, 'fast-path-orphaned');
    orphanedToken = (await createTenantFor(platform.gatewayUrl, orphaned)).accessToken;
    const orphan = await graphqlData<{ createDocument: { document: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { token: orphanedToken, variables: { input: { title: 'Orphaned', body: 'Its owner is unknown to auth.', type: 'ARTICLE', language: 'en' } } },
    );
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    try {
      await client.query('UPDATE content.documents SET owner_id = $1 WHERE id = $2', [randomUUID(), orphan.createDocument.document.id]);
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await apolloOnly?.stop();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const orphanedAuth = () => ({ authorization: `Bearer ${orphanedToken}` });
  const served = () => readMetric(platform.gateway.metricsUrl, 'gateway_graphql_fast_path_requests_total', { outcome: 'served' });

  // Each case: a request, and whether the fast path serves it (true) or hands it to Apollo Server.
  const cases: [string, () => object, () => Record<string, string>, boolean][] = [
    ['one subgraph, relayed as it is', () => ({ query: '{ me { id email displayName } }' }), auth, true],
    ['aliases, fragments and an operation name', () => ({ query: 'query Who { who: me { ...Names } } fragment Names on User { name: displayName id }', operationName: 'Who' }), auth, true],
    [
      'a join of two subgraphs',
      () => ({ query: 'query($first: Int) { documents(first: $first) { totalCount edges { node { id title owner { id displayName } } } } }', variables: { first: 5 } }),
      auth,
      true,
    ],
    [
      'a join with aliases, fragments, __typename and an operation name',
      () => ({
        query: 'query Docs { docs: documents(first: 3) { edges { node { __typename ...D } } n: totalCount } } fragment D on Document { t: title owner { __typename name: displayName email } }',
        operationName: 'Docs',
      }),
      auth,
      true,
    ],
    [
      'a conditional join',
      () => ({ query: 'query($withOwner: Boolean!) { documents(first: 3) { edges { node { id owner @include(if: $withOwner) { displayName } } } } }', variables: { withOwner: false } }),
      auth,
      true,
    ],
    ['three fetches in sequence: auth, content, auth', () => ({ query: '{ me { displayName documents(first: 3) { edges { node { title owner { id displayName } } } } } }' }), auth, true],
    ['fetches in parallel', () => ({ query: '{ documents(first: 1) { totalCount } me { id username } }' }), auth, true],
    ['a join whose second subgraph answers an error, its null propagated', () => ({ query: '{ me { id documents(first: 0) { totalCount } } }' }), auth, true],
    ['a join whose entities are null, their nulls propagated', () => ({ query: '{ documents(first: 3) { totalCount edges { node { id owner { displayName } } } } }' }), orphanedAuth, true],
    ['a join whose null entities have only nullable fields asked for', () => ({ query: '{ documents(first: 3) { edges { node { id owner { email } } } } }' }), orphanedAuth, true],
    ['a variable of a single-subgraph query', () => ({ query: 'query($id: ID!) { document(id: $id) { id title } }', variables: { id: documentId } }), auth, true],
    ['anonymous', () => ({ query: '{ oidcProviders { id name } }' }), () => ({}), true],
    ['only __typename, which no subgraph is asked for', () => ({ query: '{ __typename }' }), () => ({}), true],
    ['a conditional selection', () => ({ query: 'query($withTitle: Boolean!) { document(id: "x") { id title @include(if: $withTitle) } }', variables: { withTitle: false } }), auth, true],
    ['an error of the subgraph', () => ({ query: 'mutation { createDocument(input: { title: "", body: "x", type: ARTICLE, language: "en" }) { document { id } } }' }), auth, true],
    ['a field the caller may not use', () => ({ query: '{ adminUsers(first: 1) { totalCount } }' }), auth, true],
    ['no token where one is needed', () => ({ query: '{ me { id } }' }), () => ({}), true],
    ['an invalid token', () => ({ query: '{ me { id } }' }), () => ({ authorization: 'Bearer not-a-token' }), true],
    ['an unknown field', () => ({ query: '{ me { nope } }' }), auth, false],
    ['a syntax error', () => ({ query: '{ me { id ' }), auth, false],
    ['variables of the wrong type', () => ({ query: 'query($first: Int) { documents(first: $first) { totalCount } }', variables: { first: 'ten' } }), auth, false],
    ['an unknown operation name', () => ({ query: 'query A { me { id } }', operationName: 'B' }), auth, false],
    [
      'over the cost limit',
      () => ({
        query: `{ ${['a', 'b', 'c', 'd', 'e'].map((alias) => `${alias}: documents(first: 100) { edges { node { ...Fields } } }`).join(' ')} }
          fragment Fields on Document { id title summary body type status language version viewCount likeCount }`,
      }),
      auth,
      false,
    ],
    ['introspection', () => ({ query: '{ __schema { queryType { name } } }' }), auth, false],
    ['a batch', () => [{ query: '{ me { id } }' }], auth, false],
  ];

  it.each(cases)('answers %s exactly as Apollo Server does', async (_name, body, headers, fast) => {
    const before = await served();
    const ours = await post(platform.gatewayUrl, body(), headers());
    expect((await served()) - before).toBe(fast ? 1 : 0);
    const apollo = await post(`${apolloOnly.url}/graphql`, body(), headers());
    expect(ours).toEqual(apollo);
  });

  const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
  const directives = (count: number) => `{ me { ${'... @include(if: true) { id } '.repeat(count)}} }`;

  // Hostile or wrong requests: each refused with its typed code and HTTP 400, the same on both paths, before any subgraph is called.
  const refusals: [string, () => object, number, string, RegExp | string][] = [
    ['an unknown operation name', () => ({ query: 'query A { me { id } }', operationName: 'B' }), 400, 'OPERATION_RESOLUTION_FAILURE', 'Unknown operation named "B".'],
    ['an operation name for an anonymous operation', () => ({ query: '{ me { id } }', operationName: 'Me' }), 400, 'OPERATION_RESOLUTION_FAILURE', 'Unknown operation named "Me".'],
    [
      'two operations and no operation name',
      () => ({ query: 'query A { me { id } } query B { me { email } }' }),
      400,
      'OPERATION_RESOLUTION_FAILURE',
      'Must provide operation name if query contains multiple operations.',
    ],
    ['two anonymous operations', () => ({ query: '{ me { id } } { me { email } }' }), 400, 'GRAPHQL_VALIDATION_FAILED', 'This anonymous operation must be the only defined operation.'],
    ['an operation name that is not a string', () => ({ query: '{ me { id } }', operationName: 7 }), 400, 'BAD_REQUEST', /operationName/],
    ['1000 aliases of a cheap field', () => ({ query: aliases(1000) }), 400, 'GRAPHQL_PARSE_FAILED', /more that 5000 tokens/],
    ['more aliases than GRAPHQL_MAX_ALIASES', () => ({ query: aliases(31) }), 400, 'GRAPHQL_VALIDATION_FAILED', 'Syntax Error: Aliases limit of 30 exceeded, found 31.'],
    ['more directives than GRAPHQL_MAX_DIRECTIVES', () => ({ query: directives(51) }), 400, 'GRAPHQL_VALIDATION_FAILED', 'Syntax Error: Directives limit of 50 exceeded, found 51.'],
    ['a misspelled field', () => ({ query: '{ me { emial } }' }), 400, 'GRAPHQL_VALIDATION_FAILED', 'Cannot query field "emial" on type "User".'],
    [
      'a misspelled enum value in a variable',
      () => ({
        query: 'mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }',
        variables: { input: { title: 'T', body: 'B', type: 'ARTICL', language: 'en' } },
      }),
      400,
      'BAD_USER_INPUT',
      /^Variable "\$input" got invalid value "ARTICL" at "input.type"; Value "ARTICL" does not exist in "DocumentType" enum.$/,
    ],
  ];

  it.each(refusals)('refuses %s with its typed code, as Apollo Server does, calling no subgraph', async (_name, body, status, code, message) => {
    const requestId = `refusal-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const ours = await post(platform.gatewayUrl, body(), { ...auth(), 'x-request-id': requestId });
    const apollo = await post(`${apolloOnly.url}/graphql`, body(), auth());
    expect(ours).toEqual(apollo);
    expect(ours.status).toBe(status);
    const [error] = (ours.body as { errors: { message: string; extensions: { code: string } }[] }).errors;
    expect(error.extensions.code).toBe(code);
    expect(error.message).toMatch(typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : message);
    expect(error.message).not.toContain('Did you mean');
    // A later request auth answers under a marker id: once its log lines arrived, any of this request's would have.
    await post(platform.gatewayUrl, { query: '{ me { id } }' }, { ...auth(), 'x-request-id': `${requestId}-marker` });
    await loggedLinesOf(platform.auth, `${requestId}-marker`);
    for (const service of Object.values(platform.services)) expect(service.output()).not.toContain(`${requestId}"`);
  });

  it('answers a variable too large for a subgraph with a typed error, never INTERNAL, on both paths', async () => {
    const body = () => ({
      query: 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: { email: 'large@example.com', password: 'x'.repeat(1_000_000) } },
    });
    const ours = await post(platform.gatewayUrl, body());
    const apollo = await post(`${apolloOnly.url}/graphql`, body());
    expect(ours).toEqual(apollo);
    const [error] = (ours.body as { errors: { extensions: { code: string } }[] }).errors;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('answers a body over BODY_LIMIT with 413 and the same security headers as every answer', async () => {
    const body = { query: `{ me { id } } # ${'x'.repeat(1_100_000)}` };
    const ours = await post(platform.gatewayUrl, body);
    const apollo = await post(`${apolloOnly.url}/graphql`, body);
    expect(ours).toEqual(apollo);
    expect(ours.status).toBe(413);
    expect((ours.body as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(ours.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'x-powered-by': null });
    expect(ours.headers['strict-transport-security']).toContain('max-age=');
  });

  it('answers malformed JSON that reaches Express (a chunked body) with 400 and the security headers', async () => {
    for (const url of [platform.gatewayUrl, `${apolloOnly.url}/graphql`]) {
      const chunked = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"query": '));
          controller.close();
        },
      });
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunked, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('reads a gzip body and answers a charset or content encoding it cannot read with 415, on both paths and on a subgraph', async () => {
    const answers: string[] = [];
    for (const url of [platform.gatewayUrl, `${apolloOnly.url}/graphql`, platform.urls.auth]) {
      for (const headers of [{ 'content-type': 'application/json; charset=koi8-r' }, { 'content-type': 'application/json', 'content-encoding': 'compress' }]) {
        const response = await fetch(url, { method: 'POST', headers, body: '{"query":"{ __typename }"}' });
        const code = ((await response.json()) as { errors?: { extensions: { code: string } }[] }).errors?.[0]?.extensions.code;
        answers.push(`${url} ${JSON.stringify(headers)}: ${response.status} ${code} ${response.headers.get('x-content-type-options')}`);
      }
    }
    expect(answers).toEqual(answers.map((answer) => answer.replace(/: .*$/, ': 415 BAD_REQUEST nosniff')));
    // A body compressed with an encoding it knows is read, on every path.
    for (const url of [platform.gatewayUrl, `${apolloOnly.url}/graphql`, platform.urls.auth]) {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"query":"{ __typename }"}') });
      expect([url, response.status, await response.json()]).toEqual([url, 200, { data: { __typename: 'Query' } }]);
    }
  });

  it('answers a subgraph that cannot be reached with SERVICE_UNAVAILABLE, on both paths', async () => {
    const unreachable = { SUBGRAPHS: 'auth=http://127.0.0.1:1/graphql' };
    const [fast, apolloOnlyUnreachable] = await Promise.all([
      startGatewayFor(platform, unreachable),
      startGatewayFor(platform, { ...unreachable, GRAPHQL_FAST_PATH: 'false' }),
    ]);
    try {
      const body = { query: '{ me { id email } }' };
      const ours = await post(`${fast.url}/graphql`, body, auth());
      expect(ours).toEqual(await post(`${apolloOnlyUnreachable.url}/graphql`, body, auth()));
      const [error] = (ours.body as { errors: { message: string; extensions: { code: string } }[] }).errors;
      expect(error).toEqual({ message: 'A service this request needs is unavailable; try again later', extensions: { code: 'SERVICE_UNAVAILABLE' } });
      // The second subgraph of a join: content's answer, shaped around the owners auth could not give.
      for (const query of ['{ documents(first: 3) { totalCount edges { node { id owner { displayName } } } } }', '{ documents(first: 3) { totalCount edges { node { id owner { email } } } } }']) {
        const join = await post(`${fast.url}/graphql`, { query }, auth());
        expect(join).toEqual(await post(`${apolloOnlyUnreachable.url}/graphql`, { query }, auth()));
        expect((join.body as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      }
    } finally {
      await Promise.all([fast.stop(), apolloOnlyUnreachable.stop()]);
    }
  });

  it('answers malformed JSON with the typed error and the security headers', async () => {
    const response = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
