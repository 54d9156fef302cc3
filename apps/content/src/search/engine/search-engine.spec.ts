import { DataSource } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { AppError, ErrorCode } from '@multipult/graphql';
import { metricsRegistry } from '@multipult/observability';
import { OpenSearchNode, TestDatabase, eventually, startOpenSearchNode } from '@multipult/testing';
import { AuthorsService } from '../../authors/authors.service';
import { TagsService } from '../../tags/tags.service';
import { SearchCacheService } from '../../cache/search-cache.service';
import type { ContentConfig } from '../../config';
import { DocumentFilter, SearchSort } from '../dto';
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
} from '../search-corpus.testing';
import { SearchRows, SearchService } from '../search.service';
import { SearchEngine, detachSearchEngine } from './search-engine';
import { SearchIndexerService } from './search-indexer.service';
import { EngineOrder, EngineSearchRequest, EngineSearchResponse, SCORE_ORDER_WINDOW, engineSearchBody, engineSearchRows, simpleQueryString } from './search-engine.query';
import { termOf, tokens } from '../text-analysis';

// A real OpenSearch node (tools/opensearch) and real PostgreSQL: the index the indexer keeps from
// the change queue must answer what the unbounded PostgreSQL search answers on the same corpus.

describe('search through the engine (OpenSearch), indexed off the write path', () => {
  let node: OpenSearchNode;
  let database: TestDatabase;
  let dataSource: DataSource;
  let tagIds: string[];
  let authorIds: string[];
  let indexer: SearchIndexerService;
  const invalidated: string[] = [];
  const cache = { ...passThroughCache, invalidateTenant: async (tenantId: string) => void invalidated.push(tenantId) } as unknown as SearchCacheService;
  let config: ContentConfig;
  let queuedBeforeAttach: number;
  const service = (overrides: Partial<ContentConfig> = {}) => {
    const serviceConfig = { ...config, ...overrides };
    return new SearchService(dataSource, serviceConfig, cache, new SearchEngine(serviceConfig), passThroughDocumentCache, new TagsService(dataSource), new AuthorsService(dataSource));
  };
  const until = (what: string, assertion: () => Promise<void>, timeoutMs?: number) =>
    eventually(
      what,
      async () => {
        await assertion();
        return true;
      },
      timeoutMs,
    );
  const queued = async () => (await dataSource.query('SELECT count(*)::int AS n FROM search_index_changes'))[0].n as number;

  beforeAll(async () => {
    [node, { database, dataSource, tagIds, authorIds }] = await Promise.all([startOpenSearchNode({ heapMb: 384 }), createSearchCorpus('content_search_engine')]);
    config = {
      SEARCH_FUZZY_THRESHOLD: 3,
      SEARCH_TOTAL_HITS_LIMIT: 10_000,
      SEARCH_RESCORE_WINDOW: 300,
      SEARCH_ENGINE_URL: node.url,
      SEARCH_ENGINE_INDEX: 'spec-documents',
      SEARCH_ENGINE_BATCH_SIZE: 100,
      SEARCH_ENGINE_POLL_INTERVAL_MS: 100,
    } as ContentConfig;
    queuedBeforeAttach = await queued();
    indexer = new SearchIndexerService(dataSource, config, new SearchEngine(config), cache);
    await indexer.onApplicationBootstrap();
    // The loop attaches the alias, builds the first index with every document, then gives it the alias.
    await until(
      'the corpus indexed',
      async () => {
        expect(await dataSource.query('SELECT engine_index FROM search_index_state')).toEqual([{ engine_index: 'spec-documents' }]);
        expect(await new SearchEngine(config).serving()).toBe(true);
        expect(await queued()).toBe(0);
      },
      60_000,
    );
  }, 240_000);

  afterAll(async () => {
    await indexer?.onApplicationShutdown();
    await node?.stop();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('queues nothing while no engine index is attached', () => {
    expect(queuedBeforeAttach).toBe(0);
  });

  it('serves the first index merged into one segment', async () => {
    const client = new SearchEngine(config).requireClient();
    expect((await client.cat.segments({ index: 'spec-documents', format: 'json' })).body).toHaveLength(1);
  });

  it('memory-maps every file of the index it serves', async () => {
    const engine = new SearchEngine(config);
    const { body } = await engine.requireClient().indices.getSettings({ index: engine.index, name: 'index.store.type', flat_settings: true });
    expect((body as Record<string, { settings: Record<string, string> }>)[engine.index].settings).toEqual({ 'index.store.type': 'mmapfs' });
  });

  it('keeps an index in few segments: its merge policy, put on an index made before it too', async () => {
    const engine = new SearchEngine(config);
    const client = engine.requireClient();
    const mergePolicy = async () => {
      const { body } = await client.indices.getSettings({ index: engine.index, name: 'index.merge.policy.*', flat_settings: true });
      // An index without any of the settings asked for is left out of the answer.
      return (body as Record<string, { settings: Record<string, string> } | undefined>)[engine.index]?.settings ?? {};
    };
    const policy = { 'index.merge.policy.floor_segment': '32mb', 'index.merge.policy.segments_per_tier': '4' };
    expect(await mergePolicy()).toEqual(policy);
    await client.indices.putSettings({ index: engine.index, body: { 'index.merge.policy.floor_segment': null, 'index.merge.policy.segments_per_tier': null } });
    expect(await mergePolicy()).toEqual({});
    // A replica that starts on the index serving puts the policy on it.
    await new SearchIndexerService(dataSource, config, engine, cache).step();
    expect(await mergePolicy()).toEqual(policy);
  });

  it('speaks web search syntax in simple_query_string', () => {
    expect(simpleQueryString('урман OR forest -harbor "old  house"')).toBe('урман | forest -harbor "old  house"');
    expect(simpleQueryString('  or  ')).toBe('|');
  });

  it('analyzes text as the engine does, so the service marks the words the engine matched', async () => {
    const client = new SearchEngine(config).requireClient();
    const texts: Record<string, string> = {
      english: `The keeper's ponies were happily generalizing; possibly, probably, humbly. Biology e-mail don't e.g. 3.14 1,000 foo_bar café naïve
        Running foxes ran through the forests and harbors: a harbour's lights, lighthouses, the lighthouse-keeper's log! Relational, rational, conditional. İSTANBUL'S
        The sky, skies, flies, flying, dying, lying, agreed, feed, hopping, hoping, filing, sensational, electricity, formality, adjustment.`,
      russian: `Ёжик в ёлках; её ночью ночь ночные свечей свеча. Старый дом у реки, старые дома над рекой и в лесу, лесах, лесной.
        ${'и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам сказал ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто человек чего раз тоже себе под жизнь будет ж тогда кто этот говорил того потому этого какой совсем ним здесь этом один почти мой тем чтобы нее кажется сейчас были куда зачем сказать всех никогда сегодня можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много разве сказала три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между'}
        Ещё, её, Её, нём, всё, берёза, Пётр, объём, приём, тёмные ночи, зелёный берег, мосты, горами, снами, камнями, письмами.`,
      simple: 'Урман, су, көн һәм төн; тау өстендә кояш. Җир, ай, йолдызлар, авыллар, җырлар. The Keepers of 日本語 text, ひらがな, U.S.A. and 12:30. ' +
        "a.1 1.a x'2 v1.2.3 a1.b foo_.bar a._b x² ½ Ⅻ ٣.٤ a‧b ａ．ｂ 1;2 İstanbul ΟΔΟΣ ΣΟΦΟΣ οδος 日.a",
    };
    const configurations = { english: 'english', russian: 'russian', simple: 'standard' };
    for (const [configuration, analyzer] of Object.entries(configurations)) {
      const text = texts[configuration];
      const { body } = await client.indices.analyze({ body: { analyzer, text } });
      const engine = (body as { tokens: { token: string; start_offset: number; end_offset: number }[] }).tokens.map((token) => [token.token, token.start_offset, token.end_offset]);
      const term = termOf(configuration);
      const service = [...tokens(text)].flatMap((word) => {
        const analyzed = term(word.text);
        return analyzed === null ? [] : [[analyzed, word.start, word.end]];
      });
      expect(service).toEqual(engine);
    }
  });

  it('reads only the fields of the filtered languages, and no stored document: the service highlights', () => {
    const request = (filter: DocumentFilter, highlights: boolean) =>
      engineSearchBody({
        principal: EDITOR,
        input: { query: 'ночь', filter, first: 20 },
        sort: SearchSort.RELEVANCE,
        pageSize: 20,
        fuzzy: false,
        selection: { totalCount: true, facets: true, highlights },
        totalHitsLimit: 10_000,
      }, 'score');
    const configurationsIn = (body: Record<string, unknown>) => [...new Set(JSON.stringify(body).match(/variants\.(\w+)\.(?:all|head|title|summary|body)/g))].map((field) => field.split('.')[1]);
    expect(new Set(configurationsIn(request({ languages: ['ru'] }, true)))).toEqual(new Set(['russian']));
    expect(new Set(configurationsIn(request({ languages: ['tt', 'en'] }, true)))).toEqual(new Set(['simple', 'english']));
    expect(new Set(configurationsIn(request({}, true)))).toEqual(new Set(['english', 'russian', 'simple']));
    const fuzzy = engineSearchBody({
      principal: EDITOR,
      input: { query: 'nihgt' },
      sort: SearchSort.RELEVANCE,
      pageSize: 20,
      fuzzy: true,
      selection: { totalCount: true, facets: false, highlights: true },
      totalHitsLimit: 10_000,
    }, 'sort');
    // Highlights are the service's (highlight.ts): the engine reads no stored document for any search.
    for (const body of [request({}, false), request({}, true), fuzzy]) {
      expect(body).toMatchObject({ _source: false, stored_fields: '_none_' });
      expect(JSON.stringify(body)).not.toContain('highlight');
    }
  });

  it('counts the language facet without the nested pass when the filter allows one language', () => {
    const aggregations = (languages: string[] | undefined) =>
      Object.keys(
        engineSearchBody({
          principal: EDITOR,
          input: { query: 'ночь', filter: { languages }, first: 20 },
          sort: SearchSort.RELEVANCE,
          pageSize: 20,
          fuzzy: false,
          selection: { totalCount: true, facets: true, highlights: false },
          totalHitsLimit: 10_000,
        }, 'score').aggs as Record<string, unknown>,
      ).sort();
    expect(aggregations(['ru'])).toEqual(['authors', 'documents', 'tags', 'types']);
    expect(aggregations(['ru', 'ru'])).toEqual(['authors', 'documents', 'tags', 'types']);
    expect(aggregations(['ru', 'tt'])).toEqual(['authors', 'tags', 'types', 'variants']);
    expect(aggregations(undefined)).toEqual(['authors', 'tags', 'types', 'variants']);
  });

  const cases: { name: string; caller: AuthPrincipal; query: string; filter?: DocumentFilter; sort?: SearchSort }[] = [
    { name: 'one frequent word, editor', caller: EDITOR, query: 'river' },
    { name: 'one frequent word, reader (published and own)', caller: READER, query: 'river' },
    { name: 'a Russian word in every form, reader', caller: READER, query: 'ночи' },
    { name: 'two words and a language, editor', caller: EDITOR, query: 'night stone', filter: { languages: ['en'] } },
    { name: 'a Russian word in Russian originals and translations, reader', caller: READER, query: 'ночь OR река', filter: { languages: ['ru', 'ru'] } },
    { name: 'types and statuses, reader', caller: READER, query: 'река', filter: { types: ['poem', 'prose'] as never, statuses: ['published'] as never } },
    { name: 'an OR and an exclusion, Tatar and English', caller: EDITOR, query: 'урман OR forest -harbor' },
    { name: 'Tatar and Russian words, those languages only', caller: EDITOR, query: 'урман OR ночь OR forest', filter: { languages: ['tt', 'ru'] } },
    { name: 'the other tenant sees only its own', caller: OTHER_READER, query: 'river OR ночь OR урман' },
    { name: 'newest first, reader', caller: READER, query: 'forest', sort: SearchSort.NEWEST },
    { name: 'a date and a language filter, newest', caller: EDITOR, query: 'дом', filter: { from: new Date(Date.UTC(2026, 4, 1)), languages: ['ru', 'tt'] }, sort: SearchSort.NEWEST },
  ];

  it.each(cases)('finds, counts and facets exactly what the unbounded PostgreSQL search does: $name', async ({ caller, query, filter, sort }) => {
    const input = { query, filter: filter ?? {}, sort: sort ?? SearchSort.RELEVANCE, first: 7 };
    const reference = await referenceSearch(dataSource, caller, query, input.filter, input.sort);
    expect(reference.hits.length).toBeGreaterThanOrEqual(3);
    const { first, hits } = await allPages(service(), caller, input);

    expect(first.fuzzy).toBe(false);
    // Relevance is the engine's own (BM25, not ts_rank_cd): the same documents, each once, best first.
    if (input.sort === SearchSort.NEWEST) expect(hits.map((hit) => hit.id)).toEqual(reference.hits.map((hit) => hit.id));
    else {
      expect(hits.map((hit) => hit.id).sort()).toEqual(reference.hits.map((hit) => hit.id).sort());
      hits.slice(1).forEach((hit, index) => expect(hit.rank).toBeLessThanOrEqual(hits[index].rank));
    }
    expect(first.totalCount).toBe(reference.counts.total);
    expect(countsOf(first.facets.languages)).toEqual(reference.counts.languages ?? {});
    expect(countsOf(first.facets.types)).toEqual(reference.counts.types ?? {});
    expect(countsOf(first.facets.tags.map(({ tag, count }) => ({ value: tag.id, count })))).toEqual(reference.counts.tags ?? {});
    expect(countsOf(first.facets.authors.map(({ author, count }) => ({ value: author.id, count })))).toEqual(reference.counts.authors ?? {});
  });

  it('filters by tags and authors, any or all', async () => {
    const anyTags: DocumentFilter = { tagIds: [tagIds[0], tagIds[1]] };
    const reference = await referenceSearch(dataSource, EDITOR, 'river OR ночь', anyTags, SearchSort.RELEVANCE);
    const { hits } = await allPages(service(), EDITOR, { query: 'river OR ночь', filter: anyTags, first: 10 });
    expect(hits.map((hit) => hit.id).sort()).toEqual(reference.hits.map((hit) => hit.id).sort());

    const allTags = await service().search(EDITOR, { query: 'river OR ночь OR урман', filter: { tagIds: [tagIds[0], tagIds[1]], tagMode: 'all' as never }, first: 50 });
    const [{ expected }]: { expected: number }[] = await dataSource.query(
      `SELECT count(*)::int AS expected FROM documents WHERE tenant_id = $1 AND tag_ids @> $2::uuid[] AND id = ANY($3::uuid[])`,
      [TENANT, [tagIds[0], tagIds[1]], (await referenceSearch(dataSource, EDITOR, 'river OR ночь OR урман', {}, SearchSort.RELEVANCE)).hits.map((hit) => hit.id)],
    );
    expect(allTags.totalCount).toBe(expected);
    const byAuthor = await service().search(EDITOR, { query: 'river', filter: { authorIds: [authorIds[0]] }, first: 50 });
    const [{ written }]: { written: number }[] = await dataSource.query(
      `SELECT count(*)::int AS written FROM documents WHERE id = ANY($1::uuid[]) AND $2::uuid = ANY(author_ids)`,
      [byAuthor.edges.map((edge) => edge.node.document.id), authorIds[0]],
    );
    expect(byAuthor.edges.length).toBeGreaterThan(0);
    expect(written).toBe(byAuthor.edges.length);
  });

  it('reports GTE beyond the limit', async () => {
    const reference = await referenceSearch(dataSource, EDITOR, 'river', {}, SearchSort.RELEVANCE);
    const limited = await service({ SEARCH_TOTAL_HITS_LIMIT: 20 }).search(EDITOR, { query: 'river', first: 5 });
    expect(reference.counts.total).toBeGreaterThan(20);
    expect(limited.totalCount).toBe(20);
    expect(limited.totalCountRelation).toBe('gte');
  });

  it('asks for one hit more only where the count cannot tell whether a next page exists', async () => {
    const body = (selection: { totalCount: boolean; facets: boolean }, after?: (string | number)[]) =>
      engineSearchBody({ principal: EDITOR, input: { query: 'river', first: 20 }, sort: SearchSort.RELEVANCE, pageSize: 20, fuzzy: false, selection: { ...selection, highlights: false }, after, totalHitsLimit: 10_000 }, 'sort');
    expect(body({ totalCount: true, facets: false })).toMatchObject({ size: 20 });
    expect(body({ totalCount: false, facets: true })).toMatchObject({ size: 20 });
    expect(body({ totalCount: true, facets: false }, [1.5, 'id'])).toMatchObject({ size: 21 });
    expect(body({ totalCount: false, facets: false })).toMatchObject({ size: 21 });
    // In score order, a few more whatever the count: those that tell whether the page ends in a tie.
    const scoreOrdered = engineSearchBody(
      { principal: EDITOR, input: { query: 'river', first: 20 }, sort: SearchSort.RELEVANCE, pageSize: 20, fuzzy: false, selection: { totalCount: true, facets: false, highlights: false }, totalHitsLimit: 10_000 },
      'score',
    );
    expect(scoreOrdered).toMatchObject({ size: 20 + SCORE_ORDER_WINDOW, docvalue_fields: ['document_id'] });
    expect(scoreOrdered).not.toHaveProperty('sort');

    const { counts } = await referenceSearch(dataSource, EDITOR, 'river', {}, SearchSort.NEWEST);
    const page = (first: number) => service().search(EDITOR, { query: 'river', sort: SearchSort.NEWEST, first });
    const exact = await page(counts.total);
    expect(exact.edges).toHaveLength(counts.total);
    expect(exact.pageInfo.hasNextPage).toBe(false);
    const short = await page(counts.total - 1);
    expect(short.edges).toHaveLength(counts.total - 1);
    expect(short.pageInfo.hasNextPage).toBe(true);
    const uncounted = await service().search(EDITOR, { query: 'river', sort: SearchSort.NEWEST, first: counts.total - 1 }, { totalCount: false, facets: false, highlights: false });
    expect(uncounted.pageInfo.hasNextPage).toBe(true);
    const limited = await service({ SEARCH_TOTAL_HITS_LIMIT: 5 }).search(EDITOR, { query: 'river', sort: SearchSort.NEWEST, first: 5 });
    expect(limited).toMatchObject({ totalCount: 5, totalCountRelation: 'gte', pageInfo: { hasNextPage: true } });
  });

  it('orders a relevance first page by score alone only where that gives the (score, id) page, and continues it by cursor', async () => {
    // Both orders asked of the engine for the same requests: a score-ordered page is either the
    // sorted page, or undefined (asked again in sort order).
    const engine = new SearchEngine(config);
    const ask = async (request: EngineSearchRequest, order: EngineOrder) =>
      (await engine.requireClient().search({ index: engine.alias, body: engineSearchBody(request, order) as never })).body as unknown as EngineSearchResponse;
    const outcomes = { page: 0, tie: 0 };
    for (const { caller, query, filter } of cases.filter((relevanceCase) => !relevanceCase.sort)) {
      for (const pageSize of [1, 3, 7]) {
        for (const counted of [true, false]) {
          const request: EngineSearchRequest = {
            principal: caller,
            input: { query, filter, first: pageSize },
            sort: SearchSort.RELEVANCE,
            pageSize,
            fuzzy: false,
            selection: { totalCount: counted, facets: counted, highlights: false },
            totalHitsLimit: 10_000,
          };
          const [scored, sorted] = await Promise.all([ask(request, 'score'), ask(request, 'sort')]);
          const scoredRows = engineSearchRows(scored, request, 'score');
          outcomes[scoredRows ? 'page' : 'tie']++;
          if (scoredRows) expect(scoredRows).toEqual(engineSearchRows(sorted, request, 'sort'));
        }
      }
    }
    expect(outcomes.page).toBeGreaterThan(outcomes.tie);

    // Documents alike score alike. Written in descending id order, their index order is not their
    // id order, so a page ending among them cannot be ordered from score order.
    const alike: { id: string }[] = await dataSource.query(
      `INSERT INTO documents (id, tenant_id, owner_id, title, body, type, status, language, search_config, published_at)
       SELECT id, $1, $2, 'quokka', 'a quokka on the island', 'article', 'published', 'en', 'english', now()
       FROM (SELECT gen_random_uuid() AS id FROM generate_series(1, 12) ORDER BY 1 DESC) ids
       RETURNING id`,
      [TENANT, EDITOR.userId],
    );
    const inIdOrder = alike.map((document) => document.id).sort();
    await until('the alike documents indexed', async () => expect((await service().search(EDITOR, { query: 'quokka', first: 1 })).totalCount).toBe(12));
    const ties = async () => (await metricsRegistry.getSingleMetric('content_search_engine_requests_total')?.get())?.values.find((value) => value.labels.outcome === 'tie')?.value ?? 0;
    const tiesBefore = await ties();
    const { hits } = await allPages(service(), EDITOR, { query: 'quokka', first: 5 });
    expect(hits.map((hit) => hit.id)).toEqual(inIdOrder);
    // The first page was asked again in (score, id) order; later pages continue the cursor in it.
    expect((await ties()) - tiesBefore).toBe(1);

    await dataSource.query('DELETE FROM documents WHERE id = ANY($1::uuid[])', [inIdOrder]);
    await until('the alike documents deleted', async () => expect((await service().search(EDITOR, { query: 'quokka', first: 1 })).totalCount).toBe(0));
  });

  it('highlights the best variant, HTML-escaped, only when asked', async () => {
    const selection = { totalCount: true, facets: false };
    const highlighted = await service().search(READER, { query: 'river', first: 5 }, { ...selection, highlights: true });
    const plain = await service().search(READER, { query: 'river', first: 5 }, { ...selection, highlights: false });
    expect(plain.edges.map((edge) => edge.node.document.id)).toEqual(highlighted.edges.map((edge) => edge.node.document.id));
    expect(highlighted.edges.every((edge) => `${edge.node.highlight.title} ${edge.node.highlight.body}`.includes('<mark>'))).toBe(true);
    expect(plain.edges.map((edge) => edge.node.highlight)).toEqual(plain.edges.map(() => ({ title: '', body: '' })));
    // The service's highlights are cached with the page, so a cached search makes none.
    const entries: { rows: SearchRows }[] = [];
    const storingCache = {
      getOrCompute: async (_tenant: string, _scope: string, _request: unknown, compute: () => Promise<{ rows: SearchRows }>) => {
        const entry = await compute();
        entries.push(entry);
        return entry;
      },
    };
    const cached = new SearchService(dataSource, config, storingCache as unknown as SearchCacheService, new SearchEngine(config), passThroughDocumentCache, new TagsService(dataSource), new AuthorsService(dataSource));
    const result = await cached.search(READER, { query: 'river', first: 5 }, { ...selection, highlights: true });
    expect(entries[0].rows.page.slice(0, 5).map((row) => ({ title: row.title_highlight, body: row.body_highlight }))).toEqual(result.edges.map((edge) => edge.node.highlight));
  });

  it('falls back to typo-tolerant title matching when full text finds too little', async () => {
    const [document]: { id: string; title: string }[] = await dataSource.query(
      `SELECT id, title FROM documents WHERE tenant_id = $1 AND language = 'en' AND status = 'published' LIMIT 1`,
      [TENANT],
    );
    const body = `The lighthouse <keeper> logs ${'waves and wind '.repeat(20)}`;
    await dataSource.query(`UPDATE documents SET title = 'the lighthouse keeper', body = $2 WHERE id = $1`, [document.id, body]);
    await until('the title indexed', async () => expect(await queued()).toBe(0));
    const found = async (query: string) => (await service().search(READER, { query })).edges.map((edge) => edge.node.document.id);
    // One cache entry for the full-text pass and the fallback: a typo search is one lookup.
    const lookups: unknown[] = [];
    const countingCache = { getOrCompute: (_tenant: string, _scope: string, request: unknown, compute: () => Promise<unknown>) => (lookups.push(request), compute()) };
    const counted = new SearchService(dataSource, config, countingCache as unknown as SearchCacheService, new SearchEngine(config), passThroughDocumentCache, new TagsService(dataSource), new AuthorsService(dataSource));
    const result = await counted.search(READER, { query: 'lihgthouse' });
    expect(lookups).toHaveLength(1);
    expect(result.fuzzy).toBe(true);
    const hit = result.edges.find((edge) => edge.node.document.id === document.id);
    // The service highlights a typo hit: the title's words within the typo distance marked, and the
    // body's first 150 characters to the end of their word, marked the same way, escaped.
    expect(hit?.node.highlight).toEqual({
      title: 'the <mark>lighthouse</mark> keeper',
      body: `The <mark>lighthouse</mark> &lt;keeper&gt; logs ${'waves and wind '.repeat(8)}waves`,
    });
    // Two typos from 9 letters, one in shorter words.
    expect(await found('lihgthuose')).toContain(document.id);
    expect(await found('kepeer')).toContain(document.id);
    expect(await found('kaepar')).not.toContain(document.id);
  });

  it('follows writes through the queue: edits, translations, deletes; and drops the tenant cache after each batch', async () => {
    // One without a Russian translation: the corpus gives some documents one, and the case adds it.
    const [document]: { id: string }[] = await dataSource.query(
      `SELECT id FROM documents d WHERE tenant_id = $1 AND status = 'published'
         AND NOT EXISTS (SELECT 1 FROM document_translations t WHERE t.document_id = d.id AND t.language = 'ru') LIMIT 1`,
      [TENANT],
    );
    const fullTextOnly = service({ SEARCH_FUZZY_THRESHOLD: 0 });
    const found = async (query: string) => (await fullTextOnly.search(READER, { query })).edges.map((edge) => edge.node.document.id);

    invalidated.length = 0;
    await dataSource.query(`UPDATE documents SET title = 'zeppelin harbour' WHERE id = $1`, [document.id]);
    await until('the edit indexed', async () => expect(await found('zeppelin')).toEqual([document.id]));
    expect(invalidated).toContain(TENANT);

    await dataSource.query(
      `INSERT INTO document_translations (tenant_id, document_id, language, search_config, title, summary, body, created_by, updated_by)
       VALUES ($1, $2, 'ru', 'russian', 'дирижабли', '', 'старые дирижабли над гаванью', $3, $3)`,
      [TENANT, document.id, EDITOR.userId],
    );
    await until('the translation indexed', async () => expect(await found('дирижабль')).toEqual([document.id]));
    // A hit brings the text that matched best, with its own highlights: the translation, the original, the better of both.
    const highlighted = { totalCount: true, facets: false, highlights: true };
    const [viaTranslation] = (await fullTextOnly.search(READER, { query: 'дирижабль' }, highlighted)).edges;
    expect(viaTranslation.node.translation?.id).toBeDefined();
    expect(viaTranslation.node.language).toBe('ru');
    expect(viaTranslation.node.highlight).toEqual({ title: '<mark>дирижабли</mark>', body: 'старые <mark>дирижабли</mark> над гаванью' });
    const [viaOriginal] = (await fullTextOnly.search(READER, { query: 'zeppelin' }, highlighted)).edges;
    expect(viaOriginal.node.translation).toBeNull();
    expect(viaOriginal.node.highlight.title).toBe('<mark>zeppelin</mark> harbour');
    const viaEither = await fullTextOnly.search(READER, { query: 'zeppelin OR дирижабль' }, highlighted);
    expect(viaEither.totalCount).toBe(1);
    const [best] = viaEither.edges;
    expect(best.node.highlight.title).toBe(best.node.translation ? '<mark>дирижабли</mark>' : '<mark>zeppelin</mark> harbour');

    await dataSource.query(`UPDATE documents SET status = 'archived' WHERE id = $1`, [document.id]);
    await until('the status indexed', async () => expect(await found('zeppelin')).toEqual([]));
    expect((await fullTextOnly.search(EDITOR, { query: 'zeppelin' })).edges.map((edge) => edge.node.document.id)).toEqual([document.id]);

    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [document.id]);
    await until('the delete indexed', async () => expect((await fullTextOnly.search(EDITOR, { query: 'zeppelin OR дирижабль' })).totalCount).toBe(0));
  });

  it('leaves out a hit the reader may no longer see while the index still has it (a change not yet indexed)', async () => {
    const [document]: { id: string }[] = await dataSource.query(
      `SELECT id FROM documents WHERE tenant_id = $1 AND status = 'published' AND owner_id <> $2 LIMIT 1`,
      [TENANT, READER.userId],
    );
    const fullTextOnly = service({ SEARCH_FUZZY_THRESHOLD: 0 });
    const found = async (principal: AuthPrincipal) => (await fullTextOnly.search(principal, { query: 'zythum' })).edges.map((edge) => edge.node.document.id);
    await dataSource.query(`UPDATE documents SET title = 'zythum brewer' WHERE id = $1`, [document.id]);
    await until('the edit indexed', async () => expect(await found(READER)).toEqual([document.id]));

    // The indexer stopped: the index keeps the document as published.
    await indexer.onApplicationShutdown();
    await dataSource.query(`UPDATE documents SET status = 'draft' WHERE id = $1`, [document.id]);
    expect(await queued()).toBeGreaterThan(0);
    expect(await found(READER)).toEqual([]);
    expect(await found(EDITOR)).toEqual([document.id]);

    indexer = new SearchIndexerService(dataSource, config, new SearchEngine(config), cache);
    await indexer.onApplicationBootstrap();
    await until('the status indexed', async () => expect(await queued()).toBe(0));
    expect(await found(READER)).toEqual([]);
  });

  it('refuses to attach a second index to the one queue', async () => {
    const otherConfig = { ...config, SEARCH_ENGINE_INDEX: 'spec-other-documents' };
    const other = new SearchIndexerService(dataSource, otherConfig, new SearchEngine(otherConfig), cache);
    await expect(other.onApplicationBootstrap()).rejects.toThrow(/spec-documents is attached, not spec-other-documents/);
  });

  it('keeps changes queued while the engine is down, and answers searches with SERVICE_UNAVAILABLE', async () => {
    await indexer.onApplicationShutdown();
    await node.stop();
    const [document]: { id: string }[] = await dataSource.query(`SELECT id FROM documents WHERE tenant_id = $1 LIMIT 1`, [TENANT]);
    await dataSource.query(`UPDATE documents SET title = 'unreachable engine' WHERE id = $1`, [document.id]);

    await expect(indexer.drainOnce()).rejects.toThrow();
    expect(await queued()).toBeGreaterThan(0);

    // The backlog and its age as gauges, while a replica's indexer runs (and retries).
    const reporting = new SearchIndexerService(dataSource, config, new SearchEngine(config), cache);
    await reporting.onApplicationBootstrap();
    await dataSource.query(`UPDATE search_index_changes SET queued_at = now() - interval '90 seconds'`);
    const exposition = async () =>
      (
        await Promise.all(
          ['content_search_index_pending_changes', 'content_search_index_oldest_pending_age_seconds', 'content_search_engine_serving'].map((name) =>
            metricsRegistry.getSingleMetricAsString(name),
          ),
        )
      ).join('\n');
    const sample = (text: string, name: string, queue: string) => Number(new RegExp(`^${name}\\{queue="${queue}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const reported = await exposition();
    expect(sample(reported, 'content_search_index_pending_changes', 'live')).toBe(await queued());
    expect(sample(reported, 'content_search_index_pending_changes', 'build')).toBe(0);
    expect(sample(reported, 'content_search_index_oldest_pending_age_seconds', 'live')).toBeGreaterThanOrEqual(90);
    expect(sample(reported, 'content_search_index_oldest_pending_age_seconds', 'build')).toBe(0);
    // The engine is unreachable: this replica does not search it.
    expect(reported).toMatch(/^content_search_engine_serving 0$/m);
    await reporting.onApplicationShutdown();
    const afterShutdown = await exposition();
    expect(afterShutdown).not.toMatch(/queue=/);
    expect(afterShutdown).toMatch(/^content_search_engine_serving 0$/m);
    const failure = await service()
      .search(EDITOR, { query: 'river' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe(ErrorCode.SERVICE_UNAVAILABLE);
  });

  it('starts while the engine is down: only search waits for it', async () => {
    const restarted = new SearchIndexerService(dataSource, config, new SearchEngine(config), cache);
    await expect(restarted.onApplicationBootstrap()).resolves.toBeUndefined();
    await restarted.onApplicationShutdown();
  });

  it('stops queueing once detached', async () => {
    expect(await detachSearchEngine(dataSource)).toEqual(['spec-documents']);
    expect(await queued()).toBe(0);
    await dataSource.query(`UPDATE documents SET title = 'after the detach' WHERE tenant_id = $1`, [TENANT]);
    expect(await queued()).toBe(0);
  });
});
