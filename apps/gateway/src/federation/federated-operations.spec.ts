import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceRoot } from '@multipult/testing';
import { PlannedSupergraph } from './federated-operations';
import { SubgraphClient } from './subgraph-client';

describe('PlannedSupergraph', () => {
  const client = new SubgraphClient();
  const supergraph = new PlannedSupergraph(
    readFileSync(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8'),
    new Map([['auth', 'http://auth.internal/graphql']]),
    client,
    { maxDepth: 5, maxCost: 500, maxAliases: 3, maxDirectives: 3, maxTokens: 200 },
  );
  afterAll(() => client.close());

  it('relays a query one subgraph answers as asked, with its routing override, and plans it once', () => {
    const planned = supergraph.planned('query Who { who: me { ...Names } } fragment Names on User { id displayName }', 'Who');
    expect(planned?.passThrough).toMatchObject({ query: 'query Who__auth__0{who:me{id displayName}}', operationName: 'Who__auth__0', variableNames: [] });
    expect(planned?.passThrough?.subgraph.url).toBe('http://auth.internal/graphql');
    expect(supergraph.planned('query Who { who: me { ...Names } } fragment Names on User { id displayName }', 'Who')).toBe(planned);
  });

  it('names the variables the subgraph operation takes', () => {
    const planned = supergraph.planned('query($id: ID!) { document(id: $id) { id title } }', undefined);
    expect(planned?.passThrough?.variableNames).toEqual(['id']);
  });

  it('executes a join of two subgraphs by its plan instead of relaying', () => {
    const planned = supergraph.planned('{ documents(first: 5) { edges { node { title owner { displayName } } } } }', undefined);
    expect(planned?.passThrough).toBeUndefined();
    expect(planned?.plan.node?.kind).toBe('Sequence');
  });

  it.each([
    ['a syntax error', '{ me { id '],
    ['an unknown field', '{ me { nope } }'],
    ['introspection', '{ __schema { queryType { name } } }'],
    ['introspection in a fragment', '{ ...F } fragment F on Query { __type(name: "User") { name } }'],
    ['a subscription', 'subscription { notificationAdded { id } }'],
    ['two operations without a name to choose', 'query A { me { id } } query B { me { email } }'],
    ['depth over the limit', '{ documents(first: 1) { edges { node { owner { id } comments { author { id } } } } } }'],
    ['aliases over the limit', '{ a: me { id } b: me { id } c: me { id } d: me { id } }'],
    ['aliases over the limit through a fragment', '{ ...F ...F } fragment F on Query { a: me { id } b: me { id } }'],
    ['directives over the limit', '{ me { id @skip(if: false) email @skip(if: false) displayName @skip(if: false) ... @include(if: true) { id } } }'],
    ['tokens over the limit', `{ me { ${'id '.repeat(200)}} }`],
    ['an unknown operation name', 'query A { me { id } }', 'B'],
    ['an operation name for an anonymous operation', '{ me { id } }', 'A'],
  ])('leaves %s to Apollo Server', (_case: string, query: string, ...operationName: string[]) => {
    expect(supergraph.planned(query, operationName[0])).toBeUndefined();
  });

  it('plans documents at the alias, directive and token limits', () => {
    expect(supergraph.planned('{ a: me { id } b: me { id } c: me { id } }', undefined)).toBeDefined();
    expect(supergraph.planned('{ me { id @skip(if: false) email @skip(if: false) displayName @skip(if: false) } }', undefined)).toBeDefined();
  });

  it('checks the cost for the page sizes each request asks for', () => {
    const planned = supergraph.planned('query($first: Int) { documents(first: $first) { edges { node { id title } } } }', undefined);
    expect(planned?.withinCostLimit({ first: 10 })).toBe(true);
    expect(planned?.withinCostLimit({ first: 1000 })).toBe(false);
    expect(planned?.withinCostLimit({ first: 'ten' })).toBe(false);
    expect(planned?.withinCostLimit({ first: 10 })).toBe(true);
  });
});
