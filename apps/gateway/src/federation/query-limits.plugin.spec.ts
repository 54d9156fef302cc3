import { Supergraph } from '@apollo/federation-internals';
import { ApolloServer, ApolloServerOptions, BaseContext } from '@apollo/server';
import { Kind, OperationDefinitionNode, parse } from 'graphql';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@multipult/config';
import { workspaceRoot } from '@multipult/testing';
import { gatewayConfigSchema } from '../config';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { FederatedOperations } from './federated-operations';
import { gatewayOptions } from './gateway-options';
import { fragmentsOf, operationDepth, queryLimitsOf } from './query-limits.plugin';
import { SubgraphClient } from './subgraph-client';

function depthOf(query: string): number {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return operationDepth(operation.selectionSet, fragmentsOf(document));
}

describe('operationDepth', () => {
  it('counts nested fields', () => {
    expect(depthOf('{ me { id } }')).toBe(2);
    expect(depthOf('{ a { b { c { d } } } e }')).toBe(4);
  });

  it('follows fragments and inline fragments', () => {
    expect(depthOf('{ a { ...F } } fragment F on T { b { c } }')).toBe(3);
    expect(depthOf('{ a { ... on T { b { c { d } } } } }')).toBe(4);
  });

  it('terminates on fragment cycles', () => {
    expect(depthOf('{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { ...F } }')).toBeGreaterThan(0);
  });
});

describe("Apollo Server's limits (the requests the fast path leaves to it)", () => {
  const config = loadConfig(gatewayConfigSchema, {
    AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json',
    SUBGRAPHS: 'auth=http://127.0.0.1:1/graphql',
    GRAPHQL_MAX_ALIASES: '3',
    GRAPHQL_MAX_DIRECTIVES: '3',
    GRAPHQL_MAX_TOKENS: '200',
  });
  const client = new SubgraphClient();
  const options = gatewayOptions(config, new SupergraphRoutes(), new FederatedOperations(new Map(), client, queryLimitsOf(config)));
  const { formatError, parseOptions, validationRules, plugins } = options.server as ApolloServerOptions<BaseContext>;
  // The API schema of the supergraph the platform serves; nothing here gets as far as executing.
  const schema = Supergraph.build(readFileSync(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8')).apiSchema().toGraphQLJSSchema();
  const server = new ApolloServer({ schema, formatError, parseOptions, validationRules, plugins, includeStacktraceInErrorResponses: false });

  beforeAll(() => server.start());
  afterAll(async () => {
    await server.stop();
    await client.close();
  });

  async function answer(query: string, operationName?: string) {
    const response = await server.executeOperation({ query, operationName });
    const body = response.body as { kind: 'single'; singleResult: { errors?: { message: string; extensions?: { code?: string } }[] } };
    const [error] = body.singleResult.errors ?? [];
    return { status: response.http.status, message: error?.message, code: error?.extensions?.code };
  }

  it.each([
    ['an unknown operation name', 'query A { me { id } }', 'B', 'Unknown operation named "B".'],
    ['a name for an anonymous operation', '{ me { id } }', 'A', 'Unknown operation named "A".'],
    ['no name for two operations', 'query A { me { id } } query B { me { email } }', undefined, 'Must provide operation name if query contains multiple operations.'],
  ])('refuses %s with 400 OPERATION_RESOLUTION_FAILURE, as Apollo Server does without a gateway', async (_case, query, operationName, message) => {
    expect(await answer(query, operationName)).toEqual({ status: 400, message, code: 'OPERATION_RESOLUTION_FAILURE' });
  });

  it('refuses documents over the alias, directive and token limits with 400 before resolving anything', async () => {
    expect(await answer('{ a: me { id } b: me { id } c: me { id } d: me { id } }')).toEqual({
      status: 400,
      message: 'Syntax Error: Aliases limit of 3 exceeded, found 4.',
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
    expect(await answer('{ me { id @skip(if: false) email @skip(if: false) displayName @skip(if: false) ... @include(if: true) { id } } }')).toEqual({
      status: 400,
      message: 'Syntax Error: Directives limit of 3 exceeded, found 4.',
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
    expect(await answer(`{ me { ${'id '.repeat(200)}} }`)).toEqual({
      status: 400,
      // graphql-js's own wording.
      message: 'Syntax Error: Document contains more that 200 tokens. Parsing aborted.',
      code: 'GRAPHQL_PARSE_FAILED',
    });
  });
});
