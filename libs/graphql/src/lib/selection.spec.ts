import { buildSchema, graphql } from 'graphql';
import { selectedFieldNames } from './selection';

const schema = buildSchema(`
  type Result { items: [Int!]! total: Int! facets: [String!]! }
  type Query { search: Result! }
`);

async function selectedBy(query: string): Promise<string[]> {
  let names = new Set<string>();
  await graphql({
    schema,
    source: query,
    rootValue: {
      search: (_args: unknown, _context: unknown, info: Parameters<typeof selectedFieldNames>[0]) => {
        names = selectedFieldNames(info);
        return { items: [], total: 0, facets: [] };
      },
    },
  });
  return [...names].sort();
}

describe('selectedFieldNames', () => {
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
});
