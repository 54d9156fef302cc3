import { Platform, ServiceProcess, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { startGatewayFor } from './support/gateways';
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
  });

  afterAll(async () => {
    await apolloOnly?.stop();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
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

  it('answers malformed JSON with the typed error and the security headers', async () => {
    const response = await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
