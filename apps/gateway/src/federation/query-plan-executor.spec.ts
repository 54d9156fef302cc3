import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GraphQLDataSource, ServiceMap, executeQueryPlan } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { workspaceRoot } from '@multipult/testing';
import { PlannedOperation, PlannedSupergraph } from './federated-operations';
import { operationFromDocument } from '@apollo/federation-internals';
import { GraphQLError, parse } from 'graphql';
import { CompiledResultShape } from './compiled-result-shape';
import { PlanResult } from './query-plan-executor';
import { SubgraphClient, SubgraphUnavailableError } from './subgraph-client';

interface SubgraphRequest {
  query: string;
  variables: Record<string, unknown>;
}

/** How a test's subgraph answers: a GraphQL response, or an error thrown as our data source throws it when unreachable. */
type Subgraph = (request: SubgraphRequest) => GatewayGraphQLResponse | Error;

const USERS: Record<string, { displayName: string | null; email?: string | null }> = {
  u1: { displayName: 'Ann', email: 'ann@example.com' },
  u2: { displayName: 'Bob', email: null },
};

const representationsOf = (request: SubgraphRequest) => request.variables.representations as { __typename: string; id: string }[];

/** auth answering User entities from USERS: null for an unknown id, and the fields the fetch asks for. */
const auth: Subgraph = (request) => ({
  data: {
    _entities: representationsOf(request).map(({ id }) => {
      const user = USERS[id];
      if (!user) return null;
      return { ...(request.query.includes('displayName') ? { displayName: user.displayName } : {}), ...(request.query.includes('email') ? { email: user.email } : {}) };
    }),
  },
});

const documentsOf = (owners: (string | null)[]) => ({
  documents: {
    totalCount: owners.length,
    edges: owners.map((owner, index) => ({ node: { id: `d${index}`, title: `Title ${index}`, owner: owner && { __typename: 'User', id: owner } } })),
  },
});

const content =
  (owners: (string | null)[]): Subgraph =>
  () => ({ data: documentsOf(owners) });

describe('QueryPlanExecutor', () => {
  const client = new SubgraphClient();
  const supergraph = new PlannedSupergraph(
    readFileSync(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8'),
    new Map(),
    client,
    { maxDepth: 10, maxCost: 5_000, maxAliases: 10, maxDirectives: 10, maxTokens: 1_000 },
  );
  afterAll(() => client.close());

  /** The subgraphs as data sources, each answer a fresh copy (the executors merge into them), every request recorded. */
  function serviceMapOf(subgraphs: Record<string, Subgraph>, requests: string[]): ServiceMap {
    const serviceMap: ServiceMap = {};
    for (const [name, answer] of Object.entries(subgraphs)) {
      const source: GraphQLDataSource = {
        process: async ({ request }) => {
          const sent = { query: request.query ?? '', variables: JSON.parse(JSON.stringify(request.variables ?? {})) as Record<string, unknown> };
          requests.push(`${name} ${JSON.stringify(sent)}`);
          const answered = answer(sent);
          if (answered instanceof Error) throw answered;
          return JSON.parse(JSON.stringify(answered)) as GatewayGraphQLResponse;
        },
      };
      serviceMap[name] = source;
    }
    return serviceMap;
  }

  /** The answer as the fast path writes it: formatted errors in order, then the data in its order. */
  const written = (result: PlanResult | Awaited<ReturnType<typeof executeQueryPlan>>) =>
    JSON.stringify({
      errors: result.errors?.map((error: Error) => ({
        ...(error instanceof GraphQLError ? error.toJSON() : { message: error.message }),
        original: error instanceof GraphQLError ? error.originalError?.message : undefined,
        name: error.constructor.name,
      })),
      data: result.data,
      extensions: result.extensions,
    });

  /** Runs the operation through executeQueryPlan and through the executor on the same subgraphs; both must answer and ask alike. */
  async function bothAnswer(query: string, subgraphs: Record<string, Subgraph>, variables?: Record<string, unknown>) {
    const planned = supergraph.planned(query, undefined) as PlannedOperation;
    expect(planned.executor).toBeDefined();
    const context = { forwardedHeaders: {} };
    const requestContext = {
      request: { query, variables, operationName: undefined },
      context,
      logger: console,
      metrics: {},
      document: planned.document,
      operation: planned.operation,
      operationName: null,
      source: query,
      schema: supergraph.schema,
    };
    const apolloRequests: string[] = [];
    const apollo = await executeQueryPlan(
      planned.plan,
      serviceMapOf(subgraphs, apolloRequests),
      requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
      planned.operationContext,
      supergraph.supergraphSchema,
      supergraph.apiSchema,
    );
    const ourRequests: string[] = [];
    const ours = await planned.executor?.execute(serviceMapOf(subgraphs, ourRequests), context, variables, requestContext);
    expect(ourRequests).toEqual(apolloRequests);
    expect(written(ours as PlanResult)).toBe(written(apollo));
    return JSON.parse(written(ours as PlanResult)) as {
      errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
      data: unknown;
      extensions?: { valueCompletion: { message: string; path: unknown[] }[] };
    };
  }

  const join = '{ documents(first: 10) { totalCount edges { node { id title owner { id displayName } } } } }';

  it('joins documents with their owners as executeQueryPlan does', async () => {
    const answer = await bothAnswer(join, { content: content(['u1', 'u2', 'u1']), auth });
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({
      documents: {
        totalCount: 3,
        edges: [
          { node: { id: 'd0', title: 'Title 0', owner: { id: 'u1', displayName: 'Ann' } } },
          { node: { id: 'd1', title: 'Title 1', owner: { id: 'u2', displayName: 'Bob' } } },
          { node: { id: 'd2', title: 'Title 2', owner: { id: 'u1', displayName: 'Ann' } } },
        ],
      },
    });
  });

  it('keeps aliases, fragments, __typename and the client’s field order', async () => {
    await bothAnswer(
      '{ docs: documents(first: 2) { edges { node { ...D } } count: totalCount } } fragment D on Document { owner { name: displayName __typename ... on User { id } } kind: __typename t: title }',
      { content: content(['u2', 'u1']), auth },
    );
  });

  it.each([true, false])('follows @include(if: %s) on the joined field', async (withOwner) => {
    const answer = await bothAnswer('query($withOwner: Boolean!) { documents(first: 2) { edges { node { id owner @include(if: $withOwner) { displayName } } } } }', { content: content(['u1', 'u2']), auth }, { withOwner });
    expect(JSON.stringify(answer.data).includes('Ann')).toBe(withOwner);
  });

  it('nulls what a null entity cannot be, up to the nearest nullable field', async () => {
    const answer = await bothAnswer(join, { content: content(['u1', 'gone']), auth });
    expect(answer.data).toBeNull();
    expect(answer.extensions?.valueCompletion).toEqual([
      expect.objectContaining({ message: 'Cannot return null for non-nullable field User.displayName.', path: ['documents', 'edges', 1, 'node', 'owner', 'displayName'] }),
    ]);
  });

  it('keeps a null entity where the field is nullable', async () => {
    await bothAnswer('{ documents(first: 2) { edges { node { id owner { email } } } } }', { content: content(['u1', 'gone', 'u2']), auth });
  });

  it('places the second subgraph’s errors at their entity’s path, with its extensions, and propagates its nulls', async () => {
    const failing: Subgraph = (request) => ({
      errors: [{ message: 'no name', path: ['_entities', 1, 'displayName'], extensions: { code: 'FORBIDDEN' } }],
      data: { _entities: representationsOf(request).map(({ id }, index) => (index === 1 ? null : { displayName: USERS[id].displayName })) },
    });
    const answer = await bothAnswer(join, { content: content(['u1', 'u2']), auth: failing });
    expect(answer.errors).toEqual([expect.objectContaining({ message: 'no name', path: ['documents', 'edges', 1, 'node', 'owner', 'displayName'], extensions: { code: 'FORBIDDEN', serviceName: 'auth' } })]);
  });

  it('types an error without a code as a downstream service error, and one without a path under the flattened path', async () => {
    const failing: Subgraph = () => ({ errors: [{ message: '' }, { message: 'at the root', path: ['_entities'] }], data: null });
    const answer = await bothAnswer(join, { content: content(['u1']), auth: failing });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['DOWNSTREAM_SERVICE_ERROR', 'DOWNSTREAM_SERVICE_ERROR']);
  });

  it('answers an unreachable second subgraph with its error and the first subgraph’s data shaped around it', async () => {
    await bothAnswer('{ documents(first: 2) { totalCount edges { node { id owner { email } } } } }', { content: content(['u1', 'u2']), auth: () => new SubgraphUnavailableError() });
    await bothAnswer(join, { content: content(['u1', 'u2']), auth: () => new SubgraphUnavailableError() });
  });

  it('answers a second subgraph with the wrong number of entities with executeQueryPlan’s error', async () => {
    const short: Subgraph = () => ({ data: { _entities: [{ displayName: 'Ann' }] } });
    const answer = await bothAnswer(join, { content: content(['u1', 'u2']), auth: short });
    expect(answer.errors?.[0].message).toBe('Expected "data._entities" to contain 2 elements');
  });

  it('asks nothing of the second subgraph when the first answered no entities', async () => {
    await bothAnswer(join, { content: content([]), auth });
    await bothAnswer('{ documents(first: 2) { edges { node { id owner { email } } } } }', { content: content([null]), auth });
    await bothAnswer(join, { content: () => ({ errors: [{ message: 'denied', path: ['documents'], extensions: { code: 'FORBIDDEN' } }], data: null }), auth });
  });

  it('joins the other way round, from auth’s user to content’s documents, with content’s error on the entity', async () => {
    const me: Subgraph = () => ({ data: { me: { __typename: 'User', id: 'u1', displayName: 'Ann' } } });
    await bothAnswer('{ me { displayName documents(first: 2) { totalCount } } }', { auth: me, content: () => ({ data: { _entities: [{ documents: { totalCount: 4 } }] } }) });
    const refused: Subgraph = () => ({ errors: [{ message: 'first must be at least 1', path: ['_entities', 0, 'documents'], extensions: { code: 'BAD_USER_INPUT' } }], data: { _entities: [null] } });
    const answer = await bothAnswer('{ me { displayName documents(first: 0) { totalCount } } }', { auth: me, content: refused });
    expect(answer).toMatchObject({ data: null, errors: [{ path: ['me', 'documents'] }] });
  });

  it('runs parallel fetches and merges both answers in the client’s order', async () => {
    const me: Subgraph = () => ({ data: { me: { id: 'u1', displayName: 'Ann' } } });
    await bothAnswer('{ me { id displayName } documents(first: 1) { totalCount } }', { auth: me, content: () => ({ data: { documents: { totalCount: 1 } } }) });
    await bothAnswer('{ documents(first: 1) { totalCount } me { id displayName } }', { auth: () => new SubgraphUnavailableError(), content: () => ({ data: { documents: { totalCount: 1 } } }) });
  });

  it.each([
    ['@skip with a literal and a fragment on the same type', '{ documents(first: 2) { edges { node { ... on Document @skip(if: false) { t: title } id @skip(if: true) owner { displayName } } } } }', undefined],
    ['@skip before @include, whatever their order', 'query($a: Boolean!, $b: Boolean!) { documents(first: 2) { edges { node { id @include(if: $a) @skip(if: $b) title } } } }', { a: false, b: true }],
    ['a defaulted condition variable', 'query($a: Boolean = false) { documents(first: 2) { edges { node { id @include(if: $a) title } } } }', undefined],
    ['a condition variable that is not a boolean (never past the fast path’s coercion)', 'query($a: Boolean!) { documents(first: 2) { edges { node { id @include(if: $a) title } } } }', { a: 'yes' }],
    ['a response name selected twice', '{ documents(first: 2) { edges { node { owner { id } ... on Document { owner { displayName } } } } } }', undefined],
  ])('shapes %s as executeQueryPlan does', async (_case, query, variables) => {
    await bothAnswer(query, { content: content(['u1', 'u2']), auth }, variables);
  });

  it('compiles the shape of joins over object types, and leaves a response name selected twice to computeResponse', () => {
    const shapeOf = (query: string) => CompiledResultShape.of(operationFromDocument(supergraph.apiSchema, parse(query)));
    expect(shapeOf(join)).toBeDefined();
    expect(shapeOf('query($w: Boolean!) { docs: documents(first: 2) { edges { node { ... on Document { t: title } owner @include(if: $w) { __typename n: displayName } } } } }')).toBeDefined();
    expect(shapeOf('{ documents(first: 2) { edges { node { owner { id } ... on Document { owner { displayName } } } } } }')).toBeUndefined();
  });

  it('answers the root __typename', async () => {
    const me: Subgraph = () => ({ data: { me: { id: 'u1', displayName: 'Ann' } } });
    expect((await bothAnswer('{ __typename }', {})).data).toEqual({ __typename: 'Query' });
    await bothAnswer('{ kind: __typename me { id displayName } documents(first: 1) { totalCount } }', { auth: me, content: () => ({ data: { documents: { totalCount: 1 } } }) });
  });

  it('answers a __typename of another type as executeQueryPlan does', async () => {
    const typed: Subgraph = () => ({ data: { documents: { totalCount: 1, edges: [{ node: { __typename: 'Collection', id: 'd0', title: 'T', owner: { __typename: 'User', id: 'u1' } } }] } } });
    await bothAnswer('{ documents(first: 1) { edges { node { __typename id title owner { displayName } } } } }', { content: typed, auth });
  });

  it('answers a value the subgraph got wrong as executeQueryPlan does', async () => {
    const wrong: Subgraph = (request) => ({ data: { _entities: representationsOf(request).map(() => ({ displayName: 42 })) } });
    await bothAnswer(join, { content: content(['u1']), auth: wrong });
  });
});
