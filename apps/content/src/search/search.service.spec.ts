import { DataSource } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { TestDatabase } from '@multipult/testing';
import { AuthorsService } from '../authors/authors.service';
import { TagsService } from '../tags/tags.service';
import { SearchCacheService } from '../cache/search-cache.service';
import type { ContentConfig } from '../config';
import { CountRelation, DocumentFilter, SearchSort } from './dto';
import { SearchEngine } from './engine/search-engine';
import { reindexDocuments } from './reindex';
import {
  EDITOR,
  OTHER_READER,
  READER,
  TENANT,
  allPages,
  countsOf,
  createSearchCorpus,
  passThroughCache,
  passThroughDocumentCache,
  referenceSearch,
} from './search-corpus.testing';
import { SearchService } from './search.service';

// Real PostgreSQL (DATABASE_URL from the jest global setup): the bounded statement against the
// unbounded oracle on a generated corpus (search-corpus.testing.ts).

describe('SearchService (bounded work) against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let tagIds: string[];
  const service = (config: Partial<ContentConfig> = {}) =>
    new SearchService(
      dataSource,
      { SEARCH_FUZZY_THRESHOLD: 3, SEARCH_TOTAL_HITS_LIMIT: 10_000, SEARCH_RESCORE_WINDOW: 300, ...config } as ContentConfig,
      passThroughCache as unknown as SearchCacheService,
      new SearchEngine({ SEARCH_ENGINE_INDEX: 'unused' } as ContentConfig),
      passThroughDocumentCache,
      new TagsService(dataSource),
      new AuthorsService(dataSource),
    );

  /** Rows of the narrow table that differ from what its source view computes now (both ways). */
  const outOfSync = async () => {
    const columns = 'document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector';
    const [{ n }]: { n: number }[] = await dataSource.query(`
      SELECT count(*)::int AS n FROM (
        (SELECT ${columns} FROM document_search_entries EXCEPT SELECT ${columns} FROM document_search_sources)
        UNION ALL
        (SELECT ${columns} FROM document_search_sources EXCEPT SELECT ${columns} FROM document_search_entries)
      ) differing`);
    return n;
  };

  beforeAll(async () => {
    ({ database, dataSource, tagIds } = await createSearchCorpus('content_search_bounded'));
  }, 120_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('keeps the narrow search table equal to its sources after inserts', async () => {
    const [{ entries }]: { entries: number }[] = await dataSource.query('SELECT count(*)::int AS entries FROM document_search_entries');
    expect(entries).toBeGreaterThan(280);
    expect(await outOfSync()).toBe(0);
  });

  const cases: { name: string; caller: AuthPrincipal; query: string; filter?: DocumentFilter; sort?: SearchSort }[] = [
    { name: 'one frequent word, editor', caller: EDITOR, query: 'river' },
    { name: 'one frequent word, reader (published and own)', caller: READER, query: 'river' },
    { name: 'a Russian word in every form, reader', caller: READER, query: 'ночи' },
    { name: 'two words and a language, editor', caller: EDITOR, query: 'night stone', filter: { languages: ['en'] } },
    { name: 'types and statuses, reader', caller: READER, query: 'река', filter: { types: ['poem', 'prose'] as never, statuses: ['published'] as never } },
    { name: 'an OR and an exclusion, Tatar and English', caller: EDITOR, query: 'урман OR forest -harbor' },
    { name: 'the other tenant sees only its own', caller: OTHER_READER, query: 'river OR ночь OR урман' },
    { name: 'newest first, reader', caller: READER, query: 'forest', sort: SearchSort.NEWEST },
    { name: 'most popular first, editor', caller: EDITOR, query: 'лес OR урман', sort: SearchSort.POPULAR },
    { name: 'a date and a language filter, newest', caller: EDITOR, query: 'дом', filter: { from: new Date(Date.UTC(2026, 4, 1)), languages: ['ru', 'tt'] }, sort: SearchSort.NEWEST },
  ];

  it.each(cases)('finds, orders, counts and facets exactly what the unbounded search does: $name', async ({ caller, query, filter, sort }) => {
    const input = { query, filter: filter ?? {}, sort: sort ?? SearchSort.RELEVANCE, first: 7 };
    const filterWithTags = filter ?? {};
    const reference = await referenceSearch(dataSource, caller, query, filterWithTags, input.sort);
    expect(reference.hits.length).toBeGreaterThanOrEqual(3);
    expect(reference.hits.length).toBeLessThan(300);
    const { first, hits } = await allPages(service(), caller, input);

    expect(first.fuzzy).toBe(false);
    expect(hits.map(({ id, translation_id, language }) => ({ id, translation_id, language }))).toEqual(
      reference.hits.map(({ id, translation_id, language }) => ({ id, translation_id, language })),
    );
    hits.forEach((hit, index) => expect(hit.rank).toBeCloseTo(reference.hits[index].rank, 5));
    expect(first.totalCount).toBe(reference.counts.total);
    expect(first.totalCountRelation).toBe(CountRelation.EQ);
    expect(first.facets.countRelation).toBe(CountRelation.EQ);
    expect(countsOf(first.facets.languages)).toEqual(reference.counts.languages ?? {});
    expect(countsOf(first.facets.types)).toEqual(reference.counts.types ?? {});
    expect(countsOf(first.facets.tags.map(({ tag, count }) => ({ value: tag.id, count })))).toEqual(reference.counts.tags ?? {});
    expect(countsOf(first.facets.authors.map(({ author, count }) => ({ value: author.id, count })))).toEqual(reference.counts.authors ?? {});
  });

  it('filters by tags like the unbounded search', async () => {
    const filter: DocumentFilter = { tagIds: [tagIds[0], tagIds[1]] };
    const reference = await referenceSearch(dataSource, EDITOR, 'river OR ночь', filter, SearchSort.RELEVANCE);
    const { first, hits } = await allPages(service(), EDITOR, { query: 'river OR ночь', filter, first: 10 });
    expect(hits.map((hit) => hit.id)).toEqual(reference.hits.map((hit) => hit.id));
    expect(first.totalCount).toBe(reference.counts.total);
  });

  it('reports GTE beyond the limit: counts and facets over the first matches only, pages within them', async () => {
    const limit = 20;
    const reference = await referenceSearch(dataSource, EDITOR, 'river', {}, SearchSort.RELEVANCE);
    expect(reference.counts.total).toBeGreaterThan(limit + 5);
    const { first, hits } = await allPages(service({ SEARCH_TOTAL_HITS_LIMIT: limit, SEARCH_RESCORE_WINDOW: 8 }), EDITOR, { query: 'river', first: 6 });

    expect(first.totalCountRelation).toBe(CountRelation.GTE);
    expect(first.facets.countRelation).toBe(CountRelation.GTE);
    expect(first.totalCount).toBeGreaterThan(0);
    expect(first.totalCount).toBeLessThanOrEqual(limit);
    expect(first.facets.types.reduce((sum, facet) => sum + facet.count, 0)).toBe(first.totalCount);
    // Paging reaches the limit's window (its documents, each once), all of them real matches.
    const ids = hits.map((hit) => hit.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(first.totalCount);
    expect(ids.length).toBeLessThanOrEqual(limit + 1);
    const matching = new Set(reference.hits.map((hit) => hit.id));
    ids.forEach((id) => expect(matching.has(id)).toBe(true));

    const below = await service({ SEARCH_TOTAL_HITS_LIMIT: reference.counts.total + 1 }).search(EDITOR, { query: 'river' });
    expect(below.totalCount).toBe(reference.counts.total);
    expect(below.totalCountRelation).toBe(CountRelation.EQ);
  });

  it('ranks exactly within a small rescore window and still returns every match, each once', async () => {
    const reference = await referenceSearch(dataSource, READER, 'river', {}, SearchSort.RELEVANCE);
    const window = 5;
    const { first, hits } = await allPages(service({ SEARCH_RESCORE_WINDOW: window }), READER, { query: 'river', first: 4 });
    expect(first.totalCount).toBe(reference.counts.total);
    expect(first.totalCountRelation).toBe(CountRelation.EQ);
    expect(hits.map((hit) => hit.id).sort()).toEqual(reference.hits.map((hit) => hit.id).sort());
    const rescored = hits.slice(0, window);
    rescored.slice(1).forEach((hit, index) => expect(hit.rank).toBeLessThanOrEqual(rescored[index].rank));
  });

  it('highlights only when asked: the same hits, ranks and counts either way', async () => {
    const selection = { totalCount: true, facets: false };
    const highlighted = await service().search(READER, { query: 'river', first: 5 }, { ...selection, highlights: true });
    const plain = await service().search(READER, { query: 'river', first: 5 }, { ...selection, highlights: false });
    const hitsOf = (result: typeof plain) => result.edges.map((edge) => ({ id: edge.node.document.id, rank: edge.node.rank }));
    expect(hitsOf(plain)).toEqual(hitsOf(highlighted));
    expect(plain.totalCount).toBe(highlighted.totalCount);
    expect(highlighted.edges.every((edge) => edge.node.highlight.title.includes('<mark>') || edge.node.highlight.body.includes('<mark>'))).toBe(true);
    expect(plain.edges.map((edge) => edge.node.highlight)).toEqual(plain.edges.map(() => ({ title: '', body: '' })));
  });

  it('keeps the narrow table in step with document and translation writes, and reindex rebuilds it', async () => {
    const [document]: { id: string }[] = await dataSource.query(
      `SELECT d.id FROM documents d JOIN document_translations t ON t.document_id = d.id WHERE d.tenant_id = $1 LIMIT 1`,
      [TENANT],
    );
    const searchRowVersion = async () =>
      (await dataSource.query(`SELECT xmin::text AS version FROM document_search_entries WHERE document_id = $1 AND translation_id IS NULL`, [document.id]))[0]
        .version as string;

    await dataSource.query(`UPDATE documents SET status = 'archived', title = 'lighthouse keeper' WHERE id = $1`, [document.id]);
    await dataSource.query(`UPDATE documents SET tag_ids = $2, published_at = now() WHERE id = $1`, [document.id, [tagIds[2]]]);
    await dataSource.query(`UPDATE document_translations SET body = 'a translated lighthouse' WHERE document_id = $1`, [document.id]);
    expect(await outOfSync()).toBe(0);
    // Full text only: with few hits, typo-tolerant title matching would answer instead.
    const fullTextOnly = service({ SEARCH_FUZZY_THRESHOLD: 0 });
    const found = await fullTextOnly.search(EDITOR, { query: 'lighthouse' });
    expect(found.edges.map((edge) => edge.node.document.id)).toEqual([document.id]);
    expect((await fullTextOnly.search(READER, { query: 'lighthouse keeper' })).totalCount).toBe(0);

    // Counters are not searched: the entry is left as it is.
    const version = await searchRowVersion();
    await dataSource.query(`UPDATE documents SET view_count = view_count + 1, like_count = like_count + 1 WHERE id = $1`, [document.id]);
    expect(await searchRowVersion()).toBe(version);

    await dataSource.query(`DELETE FROM document_translations WHERE document_id = $1`, [document.id]);
    expect(await outOfSync()).toBe(0);
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [document.id]);
    expect(await outOfSync()).toBe(0);
    expect((await fullTextOnly.search(EDITOR, { query: 'lighthouse' })).totalCount).toBe(0);

    await dataSource.query(`DELETE FROM document_search_entries WHERE document_id IN (SELECT id FROM documents WHERE tenant_id = $1 LIMIT 10)`, [TENANT]);
    await dataSource.query(`UPDATE document_search_entries SET status = 'draft' WHERE translation_id IS NOT NULL`);
    expect(await outOfSync()).toBeGreaterThan(0);
    const report = await reindexDocuments(dataSource);
    expect(await outOfSync()).toBe(0);
    const [{ sources }]: { sources: number }[] = await dataSource.query('SELECT count(*)::int AS sources FROM document_search_sources');
    expect(report.searchEntries).toBe(sources);
  });
});
