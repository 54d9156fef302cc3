import { buildSchema, graphql } from 'graphql';
import { selectedFieldPaths } from './selection';

const schema = buildSchema(`
  type Hit { id: Int! highlight: String }
  type Edge { node: Hit! }
  type Result { items: [Int!]! total: Int! facets: [String!]! edges: [Edge!]! }
  type Query { search: Result! }
`);

async function selectedBy(query: string): Promise<string[]> {
  let paths = new Set<string>();
  const result = await graphql({
    schema,
    source: query,
    rootValue: {
      search: (_args: unknown, _context: unknown, info: Parameters<typeof selectedFieldPaths>[0]) => {
        paths = selectedFieldPaths(info);
        return { items: [], total: 0, facets: [], edges: [] };
      },
    },
  });
  expect(result.errors).toBeUndefined();
  return [...paths].sort();
}

describe('selectedFieldPaths', () => {
  it('lists the fields selected directly', async () => {
    expect(await selectedBy('{ search { items } }')).toEqual(['items']);
  });

  it('follows named and inline fragments', async () => {
    expect(await selectedBy('{ search { ...Counts ... on Result { items } } } fragment Counts on Result { total __typename }')).toEqual([
      '__typename',
      'items',
      'total',
    ]);
  });

  it('names nested fields by their path, through fragments at any depth', async () => {
    expect(await selectedBy('{ search { total edges { node { id ...Marks } } } } fragment Marks on Hit { highlight }')).toEqual([
      'edges',
      'edges.node',
      'edges.node.highlight',
      'edges.node.id',
      'total',
    ]);
  });
});
