import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '@multipult/graphql';
import { SUBGRAPH_SERVICES } from '@multipult/registry';
import { SupergraphRoutes, rootFieldOwners } from './supergraph-routes';

const committed = readFileSync(path.join(__dirname, '../../../../deploy/supergraph.graphql'), 'utf8');

describe('SupergraphRoutes', () => {
  const routes = new SupergraphRoutes(new Map([['content', 'http://content.internal:4002/graphql']]));
  routes.update(committed);

  const problem = (query: string, operationName?: string) => {
    try {
      routes.route(query, operationName);
    } catch (error) {
      return error as AppError;
    }
    throw new Error('routed');
  };

  it('owns every subscription field where the registry says, and nothing else', () => {
    const owners = rootFieldOwners(committed);
    const routed = Object.fromEntries([...owners.subscription].map(([field, subgraph]) => [field, subgraph.name]));
    const registered = Object.fromEntries(SUBGRAPH_SERVICES.flatMap((service) => service.subscriptionFields.map((field) => [field, service.name])));
    expect(routed).toEqual(registered);
  });

  it('routes by root field, through fragments, to the URL SUBGRAPHS overrides or the one recorded', () => {
    expect(routes.route('subscription($id: ID!) { commentAdded(documentId: $id) { id } }')).toEqual({
      name: 'content',
      url: 'http://content.internal:4002/graphql',
    });
    expect(routes.route('subscription { ...Live } fragment Live on Subscription { __typename unreadCountChanged }').name).toBe('notifications');
    expect(routes.route('mutation M { acknowledgeNotifications(input: { clientId: "a", sequence: 1 }) { acknowledgedSequence } }', 'M').name).toBe(
      'notifications',
    );
    expect(routes.route('query { me { id } }').name).toBe('auth');
  });

  it('holds operations to the token, alias and directive limits of HTTP requests', () => {
    const limited = new SupergraphRoutes(new Map(), { maxTokens: 200, maxAliases: 3, maxDirectives: 3 });
    limited.update(committed);
    const refusal = (query: string) => {
      try {
        limited.route(query);
      } catch (error) {
        return (error as AppError).extensions?.code;
      }
      return 'routed';
    };
    expect(refusal('subscription { a1: unreadCountChanged a2: unreadCountChanged }')).toBe('routed');
    const aliases = Array.from({ length: 4 }, (_, index) => `a${index}: unreadCountChanged`).join(' ');
    expect(refusal(`subscription { ${aliases} }`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { unreadCountChanged ${'@include(if: true) '.repeat(4)}}`)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refusal(`subscription { ${'__typename '.repeat(200)}}`)).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses unknown fields, fields of two subgraphs and missing operations as BAD_USER_INPUT', () => {
    expect(problem('subscription { nothingHere }')).toMatchObject({ code: 'BAD_USER_INPUT', fieldProblems: [{ key: 'validation.unknownRootField' }] });
    expect(problem('subscription($id: ID!) { commentAdded(documentId: $id) { id } presenceChanged { online } }')).toMatchObject({
      code: 'BAD_USER_INPUT',
      fieldProblems: [{ params: { services: 'content, notifications' } }],
    });
    expect(problem('subscription A { unreadCountChanged }', 'B')).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(problem('subscription {')).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  });
});
