import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { readMetric } from './support/metrics';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

// Search served by OpenSearch through the gateway: what a document write changes reaches the
// engine's index off the write path (near real time), so each check waits for it. Agreement with
// the PostgreSQL search on a generated corpus is tested in apps/content/src/search/engine.

const SEARCH = `query($input: SearchDocumentsInput!) {
  searchDocuments(input: $input) {
    totalCount totalCountRelation fuzzy
    edges { cursor node { document { id title } translation { id } language rank highlight { title body } } }
    pageInfo { hasNextPage endCursor }
    facets { countRelation types { value count } languages { value count } tags { tag { id name } count } }
  }
}`;

interface Hit {
  cursor: string;
  node: { document: { id: string; title: string }; translation: { id: string } | null; language: string; rank: number; highlight: { title: string; body: string } };
}

interface Search {
  searchDocuments: {
    totalCount: number;
    totalCountRelation: 'EQ' | 'GTE';
    fuzzy: boolean;
    edges: Hit[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    facets: { countRelation: string; types: { value: string; count: number }[]; languages: { value: string; count: number }[]; tags: { tag: { id: string; name: string }; count: number }[] };
  };
}

describe('search through the gateway, served by OpenSearch', () => {
  let platform: Platform;
  let token: string;
  let tagId: string;
  const ids: string[] = [];
  const search = (input: Record<string, unknown>) => graphqlData<Search>(platform.gatewayUrl, SEARCH, { token, variables: { input } }).then((data) => data.searchDocuments);
  const until = <T>(what: string, check: () => Promise<T | undefined | false>) => eventually(what, check, 30_000);

  beforeAll(async () => {
    platform = await usePlatform('search-engine');
    // Until the indexer has built the first index, PostgreSQL answers: the cases below are about the engine.
    await until('content searching the engine', async () => (await readMetric(platform.content.metricsUrl, 'content_search_engine_serving', {})) === 1);
    const account = await registerAccount(platform.gatewayUrl, 'engine-searcher');
    token = (await createTenantFor(platform.gatewayUrl, account)).accessToken;
    const { createTag } = await graphqlData<{ createTag: { tag: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: CreateTagInput!) { createTag(input: $input) { tag { id } } }`,
      { token, variables: { input: { name: 'coast', color: '#336699' } } },
    );
    tagId = createTag.tag.id;
    for (const [title, type, body] of [
      ['Lighthouse at dawn', 'POEM', 'The lighthouse wakes the harbour <b>early</b>.'],
      ['The lighthouse keeper', 'PROSE', 'A keeper climbs the lighthouse stairs every night.'],
      ['Lighthouses of the north', 'ARTICLE', 'Northern lighthouses and their keepers.'],
    ]) {
      const created = await graphqlData<{ createDocument: { document: { id: string } } }>(
        platform.gatewayUrl,
        `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
        { token, variables: { input: { title, body, type, language: 'en', tagIds: type === 'POEM' ? [tagId] : [] } } },
      );
      ids.push(created.createDocument.document.id);
    }
  });

  it('finds, counts, facets and highlights new documents once the index has them', async () => {
    const found = await until('the documents indexed', async () => {
      // While the index catches up, full text can find fewer than 3 and the typo fallback answer.
      const result = await search({ query: 'lighthouse' });
      return result.totalCount === 3 && !result.fuzzy && result;
    });
    expect(found.totalCountRelation).toBe('EQ');
    expect(found.edges.map((edge) => edge.node.document.id).sort()).toEqual([...ids].sort());
    expect(found.facets.types).toEqual([
      { value: 'article', count: 1 },
      { value: 'poem', count: 1 },
      { value: 'prose', count: 1 },
    ]);
    expect(found.facets.languages).toEqual([{ value: 'en', count: 3 }]);
    // The most frequent values first, ties by value, as many as asked for.
    const topTypes = await search({ query: 'lighthouse', maxValuesPerFacet: 2 });
    expect(topTypes.facets.types).toEqual([
      { value: 'article', count: 1 },
      { value: 'poem', count: 1 },
    ]);
    expect(found.facets.tags).toEqual([{ tag: { id: tagId, name: 'coast' }, count: 1 }]);
    const dawn = found.edges.find((edge) => edge.node.document.id === ids[0]);
    expect(dawn?.node.highlight.title).toBe('<mark>Lighthouse</mark> at dawn');
    // Stored markup comes back escaped, matches marked.
    expect(dawn?.node.highlight.body).toContain('&lt;b&gt;early');
    expect(dawn?.node.highlight.body).not.toContain('<b>');
    expect(dawn?.node.highlight.body).toContain('<mark>lighthouse</mark>');
    found.edges.slice(1).forEach((edge, index) => expect(edge.node.rank).toBeLessThanOrEqual(found.edges[index].node.rank));
  });

  it('falls back to typo-tolerant title matches, marking the words matched despite the typos', async () => {
    const typo = await search({ query: 'lihgthouse keper' });
    expect(typo.fuzzy).toBe(true);
    expect(typo.edges.map((edge) => edge.node.document.id)).toEqual([ids[1]]);
    expect(typo.edges[0].node.highlight.title).toBe('The <mark>lighthouse</mark> <mark>keeper</mark>');
    // Typos match titles only: the body is its leading text, the same words marked.
    expect(typo.edges[0].node.highlight.body).toBe('A <mark>keeper</mark> climbs the <mark>lighthouse</mark> stairs every night.');
  });

  it('pages with cursors, filters, and sorts newest first', async () => {
    const first = await search({ query: 'lighthouse', first: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await search({ query: 'lighthouse', first: 2, after: first.pageInfo.endCursor });
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...second.edges].map((edge) => edge.node.document.id).sort()).toEqual([...ids].sort());

    const poems = await search({ query: 'lighthouse', filter: { types: ['POEM'], tagIds: [tagId] } });
    expect(poems.edges.map((edge) => edge.node.document.id)).toEqual([ids[0]]);
    const newest = await search({ query: 'lighthouse', sort: 'NEWEST' });
    expect(newest.edges.map((edge) => edge.node.document.id)).toEqual([...ids].reverse());
  });

  it('refuses a cursor of another order with a typed error', async () => {
    const relevance = await search({ query: 'lighthouse', first: 1 });
    const refused = await graphql(platform.gatewayUrl, SEARCH, { token, variables: { input: { query: 'lighthouse', sort: 'NEWEST', after: relevance.pageInfo.endCursor } } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('follows edits, translations and deletes', async () => {
    await graphqlData(platform.gatewayUrl, `mutation($input: UpdateDocumentInput!) { updateDocument(input: $input) { document { id } } }`, {
      token,
      variables: { input: { id: ids[1], title: 'The zeppelin keeper' } },
    });
    await until('the edit indexed', async () => {
      const result = await search({ query: 'zeppelin' });
      return result.edges.map((edge) => edge.node.document.id).join() === ids[1];
    });

    await graphqlData(
      platform.gatewayUrl,
      `mutation($input: SaveTranslationInput!) { saveTranslation(input: $input) { translation { id } } }`,
      { token, variables: { input: { documentId: ids[2], language: 'ru', title: 'Маяки севера', body: 'Северные маяки и их смотрители.' } } },
    );
    const viaTranslation = await until('the translation indexed', async () => {
      const result = await search({ query: 'маяк' });
      return result.totalCount === 1 && result;
    });
    expect(viaTranslation.edges[0].node.document.id).toBe(ids[2]);
    expect(viaTranslation.edges[0].node.language).toBe('ru');
    expect(viaTranslation.edges[0].node.translation).not.toBeNull();

    await graphqlData(platform.gatewayUrl, `mutation($input: DocumentIdInput!) { deleteDocument(input: $input) { deletedDocumentId } }`, {
      token,
      variables: { input: { id: ids[0] } },
    });
    await until('the delete indexed', async () => (await search({ query: 'lighthouse OR zeppelin' })).totalCount === 2);
  });

  it('answers bad input with a typed error, not a 500', async () => {
    const refused = await graphql(platform.gatewayUrl, SEARCH, { token, variables: { input: { query: '' } } });
    expect(refused.status).toBe(200);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
