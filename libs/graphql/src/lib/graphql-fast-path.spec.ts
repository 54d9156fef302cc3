import net from 'node:net';
import { INestApplication, Module } from '@nestjs/common';
import { ApolloFederationDriverConfig } from '@nestjs/apollo';
import { Args, Context, Field, InputType, Mutation, Query, Resolver } from '@nestjs/graphql';
import { GraphQLModule } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { MaxLength } from 'class-validator';
import { ObservabilityModule, RequestContext, metricsRegistry } from '@multipult/observability';
import { NotFoundError } from './errors';
import { configureServiceApp } from './service-app';
import { GraphQLContext, subgraphGraphQLOptions } from './subgraph-options';

@InputType()
class RenameInput {
  @Field()
  @MaxLength(5)
  name: string;
}

/** What a resolver sees of its request: the request context and the request in the GraphQL context. */
@Resolver()
class ProbeResolver {
  @Query(() => String)
  requestSeen(@Context() context: GraphQLContext): string {
    const current = RequestContext.current();
    return JSON.stringify({
      requestId: current?.requestId,
      clientIp: current?.clientIp,
      locales: current?.locales,
      header: context.req.headers['x-probe'] ?? null,
      body: (context.req as unknown as { body: unknown }).body,
      started: (context.req as unknown as { started?: boolean }).started ?? false,
    });
  }

  @Query(() => String)
  missing(): string {
    throw new NotFoundError('Probe');
  }

  @Mutation(() => String)
  rename(@Args('input') input: RenameInput): string {
    return input.name;
  }
}

@Module({ providers: [ProbeResolver] })
class ProbeModule {}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between any two answers (time, connection handling), and Express's ETag on a POST. */
const VARYING_HEADERS = new Set(['date', 'etag', 'connection', 'keep-alive']);

async function startApp(graphqlFastPath: boolean): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ObservabilityModule.forRoot({ service: 'fast-path-spec', logLevel: 'silent' }),
      GraphQLModule.forRoot<ApolloFederationDriverConfig>(
        subgraphGraphQLOptions({ production: false, startRequest: (req) => Object.assign(req, { started: true }) }),
      ),
      ProbeModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
  configureServiceApp(app, { bodyLimit: '2kb', graphqlFastPath });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}/graphql` };
}

async function send(url: string, init: { method?: string; body?: string; headers?: Record<string, string> }): Promise<Answer> {
  const response = await fetch(url, { method: init.method ?? 'POST', body: init.body, headers: { 'content-type': 'application/json', 'x-request-id': 'same-request', ...init.headers } });
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!VARYING_HEADERS.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body: await response.text() };
}

async function servedByFastPath(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('graphql_fast_path_requests_total')?.get();
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

describe('the subgraph GraphQL fast path', () => {
  let fast: { app: INestApplication; url: string };
  let express: { app: INestApplication; url: string };

  beforeAll(async () => {
    [fast, express] = await Promise.all([startApp(true), startApp(false)]);
  });

  afterAll(() => Promise.all([fast?.app.close(), express?.app.close()]));

  /** Sends the same request to both apps: the answers must match, and the fast path must have served it or not. */
  async function expectSameAnswer(request: Parameters<typeof send>[1], served: boolean): Promise<Answer> {
    const before = await servedByFastPath();
    const viaFastPath = await send(fast.url, request);
    expect((await servedByFastPath()) - before).toBe(served ? 1 : 0);
    const viaExpress = await send(express.url, request);
    expect(viaFastPath).toEqual(viaExpress);
    return viaFastPath;
  }

  it('answers a query as the Express path does, with the same security headers, and serves it itself', async () => {
    const answer = await expectSameAnswer({ body: JSON.stringify({ query: '{ __typename }' }) }, true);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { __typename: 'Query' } });
    expect(answer.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
    });
    expect(answer.headers['content-security-policy']).toBeDefined();
  });

  it('gives resolvers the same request context, request id, headers, parsed body and started request', async () => {
    const body = JSON.stringify({ query: 'query Probe { requestSeen }', operationName: 'Probe' });
    const headers = { 'x-request-id': 'probe-request-1', 'x-probe': 'yes', 'x-forwarded-for': '203.0.113.7', 'accept-language': 'ru, en;q=0.5' };
    const seen = await Promise.all(
      [fast.url, express.url].map(async (url) => {
        const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
        expect(response.headers.get('x-request-id')).toBe('probe-request-1');
        return JSON.parse(((await response.json()) as { data: { requestSeen: string } }).data.requestSeen) as Record<string, unknown>;
      }),
    );
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]).toEqual({
      requestId: 'probe-request-1',
      clientIp: '203.0.113.7',
      locales: ['ru', 'en'],
      header: 'yes',
      body: { query: 'query Probe { requestSeen }', operationName: 'Probe' },
      started: true,
    });
  });

  it('answers resolver errors, invalid documents and refused input alike', async () => {
    const notFound = await expectSameAnswer({ body: JSON.stringify({ query: '{ missing }' }) }, true);
    expect(JSON.parse(notFound.body).errors[0].extensions.code).toBe('NOT_FOUND');
    const invalid = await expectSameAnswer({ body: JSON.stringify({ query: '{ nothingHere }' }) }, true);
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const tooLong = await expectSameAnswer({ body: JSON.stringify({ query: 'mutation { rename(input: { name: "far too long" }) }' }) }, true);
    expect(JSON.parse(tooLong.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const illFormed = await expectSameAnswer({ body: JSON.stringify({ query: 'mutation($name: String!) { rename(input: { name: $name }) }', variables: { name: 'a\u0000' } }) }, true);
    expect(illFormed.status).toBe(400);
    expect(JSON.parse(illFormed.body).errors[0].extensions.fields[0].field).toBe('input.name');
    // An answer with errors is no more storable than one without.
    for (const answer of [notFound, invalid, tooLong, illFormed]) expect(answer.headers['cache-control']).toBe('no-store');
  });

  it('refuses a malformed or non-object JSON body with the body parser’s answer', async () => {
    for (const body of ['{"query": ', '"{ __typename }"', 'null']) {
      const answer = await expectSameAnswer({ body }, true);
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).errors[0]).toMatchObject({ message: 'Malformed request body', extensions: { code: 'BAD_REQUEST' } });
    }
  });

  it('leaves oversized bodies, GETs and other content types to Express', async () => {
    const oversized = await expectSameAnswer({ body: JSON.stringify({ query: `{ __typename ${' '.repeat(3000)}}` }) }, false);
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    const get = await expectSameAnswer({ method: 'GET', headers: { 'apollo-require-preflight': 'true' } }, false);
    expect(get.status).toBe(400);
    const text = await expectSameAnswer({ body: '{ __typename }', headers: { 'content-type': 'text/plain' } }, false);
    expect(text.status).toBe(400);
  });
});
