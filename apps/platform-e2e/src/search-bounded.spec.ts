import { Platform, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

// The bounded-count fields through the gateway; GTE beyond the limit, and exactness against the
// unbounded search, are tested on PostgreSQL in apps/content/src/search/search.service.spec.ts.

const SEARCH = `query($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) {
    totalCount totalCountRelation
    edges { node { document { id } } }
    facets { countRelation types { value count } }
  }
}`;

interface Search {
  searchDocuments: {
    totalCount: number;
    totalCountRelation: 'EQ' | 'GTE';
    edges: { node: { document: { id: string } } }[];
    facets: { countRelation: 'EQ' | 'GTE'; types: { value: string; count: number }[] };
  };
}

describe('bounded search through the gateway', () => {
  let platform: Platform;
  let token: string;
  const ids: string[] = [];

  beforeAll(async () => {
    platform = await usePlatform('default');
    const account = await registerAccount(platform.gatewayUrl, 'searcher');
    token = (await createTenantFor(platform.gatewayUrl, account)).accessToken;
    for (const [title, type] of [
      ['Lighthouse at dawn', 'POEM'],
      ['The lighthouse keeper', 'PROSE'],
      ['Lighthouses of the north', 'ARTICLE'],
    ]) {
      const created = await graphqlData<{ createDocument: { document: { id: string } } }>(
        platform.gatewayUrl,
        `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
        { token, variables: { input: { title, body: `A text about a ${title.toLowerCase()}.`, type, language: 'en' } } },
      );
      ids.push(created.createDocument.document.id);
    }
  });

  it('reports an exact count (EQ) with its facets below the limit, and the relation alone counts too', async () => {
    const { searchDocuments: found } = await graphqlData<Search>(platform.gatewayUrl, SEARCH, { token, variables: { input: { query: 'lighthouse' } } });
    expect(found.totalCount).toBe(3);
    expect(found.totalCountRelation).toBe('EQ');
    expect(found.edges.map((edge) => edge.node.document.id).sort()).toEqual([...ids].sort());
    expect(found.facets.countRelation).toBe('EQ');
    expect(found.facets.types).toEqual([
      { value: 'article', count: 1 },
      { value: 'poem', count: 1 },
      { value: 'prose', count: 1 },
    ]);

    const relationOnly = await graphqlData<{ searchDocuments: { totalCountRelation: string } }>(
      platform.gatewayUrl,
      `query($input: SearchDocumentsInput!) { searchDocuments(input: $input) { totalCountRelation } }`,
      { token, variables: { input: { query: 'lighthouse', filter: { types: ['POEM'] } } } },
    );
    expect(relationOnly.searchDocuments.totalCountRelation).toBe('EQ');
  });
});
