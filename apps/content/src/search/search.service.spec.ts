import { DataSource } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { eventEntities, eventMigrations } from '@multipult/events';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { Author } from '../authors/author.entity';
import { SearchCacheService } from '../cache/search-cache.service';
import { Collection } from '../collections/collection.entity';
import { Comment } from '../comments/comment.entity';
import type { ContentConfig } from '../config';
import { DocumentVersion } from '../documents/document-version.entity';
import { Document } from '../documents/document.entity';
import { contentMigrations } from '../migrations';
import { Tag } from '../tags/tag.entity';
import { DocumentTranslation } from '../translations/translation.entity';
import { CountRelation, DocumentFilter, DocumentSearchResult, SearchDocumentsInput, SearchSort } from './dto';
import { reindexDocuments } from './reindex';
import { SearchService } from './search.service';

// Real PostgreSQL (DATABASE_URL from the jest global setup), one throwaway database for this file,
// migrated like the service's own; a small generated corpus of two tenants in three languages.

const TENANT = '0b6f0c1e-0000-4000-8000-000000000001';
const OTHER_TENANT = '0b6f0c1e-0000-4000-8000-000000000002';
const OWNERS = ['7d1e0000-0000-4000-8000-000000000001', '7d1e0000-0000-4000-8000-000000000002', '7d1e0000-0000-4000-8000-000000000003'];

const VOCABULARY = {
  en: { config: 'english', words: 'river forest harbor night stone light garden winter song house bridge candle mountain letter window dream'.split(' ') },
  ru: { config: 'russian', words: 'ночь река лес дом старый песня берег окно зима письмо свеча мост гора сон сад камень'.split(' ') },
  tt: { config: 'simple', words: 'урман су көн төн тау кояш җир ай йолдыз ил авыл җыр'.split(' ') },
} as const;
type Language = keyof typeof VOCABULARY;
const LANGUAGES = Object.keys(VOCABULARY) as Language[];
const TYPES = ['article', 'poem', 'prose', 'concept'];
const STATUSES = ['published', 'published', 'published', 'draft', 'archived'];

/** A deterministic generator, so failures reproduce. */
function randomFrom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  return {
    next,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    // Skewed towards the first words, so some words are frequent and others rare.
    text: (language: Language, count: number) =>
      Array.from({ length: count }, () => VOCABULARY[language].words[Math.floor(next() * next() * VOCABULARY[language].words.length)]).join(' '),
  };
}

const principal = (userId: string, tenantId: string, permissions: string[]): AuthPrincipal =>
  ({ userId, tenantId, permissions, memberships: { [tenantId]: permissions } }) as unknown as AuthPrincipal;
const EDITOR = principal(OWNERS[0], TENANT, ['content:read', 'content:write', 'content:publish']);
const READER = principal(OWNERS[1], TENANT, ['content:read', 'content:write']);
const OTHER_READER = principal(OWNERS[2], OTHER_TENANT, ['content:read']);

const passThroughCache = { getOrCompute: (_tenant: string, _scope: string, _request: unknown, compute: () => Promise<unknown>) => compute() };

interface ReferenceHit {
  id: string;
  translation_id: string | null;
  language: string;
  rank: number;
}

interface Reference {
  hits: ReferenceHit[];
  counts: { total: number; languages: Record<string, number> | null; types: Record<string, number> | null; tags: Record<string, number> | null; authors: Record<string, number> | null };
}

/**
 * The search as it was before bounded work (one statement over every match of the wide tables):
 * the oracle the bounded statement must agree with below its limits. Full text only.
 */
async function referenceSearch(dataSource: DataSource, caller: AuthPrincipal, query: string, filter: DocumentFilter, sort: SearchSort): Promise<Reference> {
  const values: unknown[] = [];
  const bind = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const text = bind(query);
  const tenant = bind(caller.tenantId);
  const editor = caller.permissions.includes('content:publish');
  const visible = editor ? `d.tenant_id = ${tenant}::uuid` : `d.tenant_id = ${tenant}::uuid AND (d.status = 'published' OR d.owner_id = ${bind(caller.userId)}::uuid)`;
  const conditions: string[] = [];
  if (filter.types?.length) conditions.push(`d.type = ANY(${bind(filter.types)}::text[])`);
  if (filter.statuses?.length) conditions.push(`d.status = ANY(${bind(filter.statuses)}::text[])`);
  if (filter.tagIds?.length) conditions.push(`d.tag_ids && ${bind(filter.tagIds)}::uuid[]`);
  if (filter.from) conditions.push(`coalesce(d.published_at, d.created_at) >= ${bind(filter.from)}`);
  const languages = filter.languages?.length ? bind(filter.languages) : undefined;
  const inLanguages = (column: string) => (languages ? [`${column} = ANY(${languages}::text[])`] : []);
  const sortValue = {
    [SearchSort.RELEVANCE]: 'NULL::float8',
    [SearchSort.NEWEST]: 'extract(epoch FROM coalesce(d.published_at, d.created_at))::float8',
    [SearchSort.POPULAR]: '(d.view_count + 5 * d.like_count)::float8',
  }[sort];
  const [row]: Reference[] = await dataSource.query(
    `WITH query AS MATERIALIZED (
       SELECT coalesce(string_agg(DISTINCT '(' || parsed.q::text || ')', ' | '), '')::tsquery AS q
       FROM (VALUES (websearch_to_tsquery('english', ${text})), (websearch_to_tsquery('russian', ${text})), (websearch_to_tsquery('simple', ${text}))) parsed(q)
       WHERE numnode(parsed.q) > 0),
     variants AS MATERIALIZED (
       SELECT d.id, NULL::uuid AS translation_id, d.language, d.type, d.tag_ids, d.author_ids,
              ts_rank_cd(d.search_vector, query.q)::float8 AS rank, ${sortValue} AS sort_value
       FROM documents d, query
       WHERE ${[visible, 'd.search_vector @@ query.q', ...conditions, ...inLanguages('d.language')].join(' AND ')}
       UNION ALL
       SELECT d.id, t.id, t.language, d.type, d.tag_ids, d.author_ids, ts_rank_cd(t.search_vector, query.q)::float8, ${sortValue}
       FROM document_translations t JOIN documents d ON d.id = t.document_id, query
       WHERE ${[`t.tenant_id = ${tenant}::uuid`, visible, 't.search_vector @@ query.q', ...conditions, ...inLanguages('t.language')].join(' AND ')}
     ),
     matched AS MATERIALIZED (
       SELECT DISTINCT ON (id) * FROM variants
       ORDER BY id, ${sort === SearchSort.RELEVANCE ? 'rank DESC NULLS LAST,' : ''} translation_id NULLS FIRST
     )
     SELECT
       (SELECT coalesce(json_agg(json_build_object('id', id, 'translation_id', translation_id, 'language', language, 'rank', rank)
                                 ORDER BY ${sort === SearchSort.RELEVANCE ? 'rank' : 'sort_value'} DESC, id), '[]'::json) FROM matched) AS hits,
       json_build_object(
         'total', (SELECT count(*) FROM matched),
         'languages', (SELECT json_object_agg(language, n) FROM (SELECT language, count(DISTINCT id) AS n FROM variants GROUP BY language) f),
         'types', (SELECT json_object_agg(type, n) FROM (SELECT type, count(*) AS n FROM matched GROUP BY type) f),
         'tags', (SELECT json_object_agg(tag_id, n) FROM (SELECT tag_id, count(*) AS n FROM matched, unnest(tag_ids) tag_id GROUP BY tag_id) f),
         'authors', (SELECT json_object_agg(author_id, n) FROM (SELECT author_id, count(*) AS n FROM matched, unnest(author_ids) author_id GROUP BY author_id) f)
       ) AS counts`,
    values,
  );
  return row;
}

/** Every page of a search, `first` at a time, and the first page's counts. */
async function allPages(service: SearchService, caller: AuthPrincipal, input: SearchDocumentsInput): Promise<{ first: DocumentSearchResult; hits: ReferenceHit[] }> {
  const hits: ReferenceHit[] = [];
  let first: DocumentSearchResult | undefined;
  let after: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page = await service.search(caller, { ...input, after });
    first ??= page;
    hits.push(
      ...page.edges.map((edge) => ({ id: edge.node.document.id, translation_id: edge.node.translation?.id ?? null, language: edge.node.language, rank: edge.node.rank })),
    );
    if (!page.pageInfo.hasNextPage) return { first, hits };
    after = page.pageInfo.endCursor ?? undefined;
  }
  throw new Error('paging did not end');
}

const countsOf = (values: { value: string; count: number }[]) => Object.fromEntries(values.map(({ value, count }) => [value, count]));

describe('SearchService (bounded work) against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const tagIds: string[] = [];
  const authorIds: string[] = [];
  const service = (config: Partial<ContentConfig> = {}) =>
    new SearchService(
      dataSource,
      { SEARCH_FUZZY_THRESHOLD: 3, SEARCH_TOTAL_HITS_LIMIT: 10_000, SEARCH_RESCORE_WINDOW: 300, ...config } as ContentConfig,
      passThroughCache as unknown as SearchCacheService,
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
    database = await createTestDatabase('content_search_bounded');
    dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      entities: [...eventEntities, Document, DocumentVersion, DocumentTranslation, Author, Tag, Comment, Collection],
      migrations: [...eventMigrations, ...contentMigrations],
    });
    await dataSource.initialize();
    await dataSource.runMigrations();

    const random = randomFrom(20_261_203);
    for (const tenant of [TENANT, OTHER_TENANT]) {
      const tags: { id: string }[] = await dataSource.query(
        `INSERT INTO tags (tenant_id, name, color) SELECT $1::uuid, 'tag ' || n, '#000000' FROM generate_series(1, 6) n RETURNING id`,
        [tenant],
      );
      const authors: { id: string }[] = await dataSource.query(
        `INSERT INTO authors (tenant_id, name) SELECT $1::uuid, 'author ' || n FROM generate_series(1, 5) n RETURNING id`,
        [tenant],
      );
      if (tenant === TENANT) {
        tagIds.push(...tags.map((tag) => tag.id));
        authorIds.push(...authors.map((author) => author.id));
      }
      const documents = tenant === TENANT ? 240 : 40;
      for (let i = 0; i < documents; i++) {
        const language = random.pick(LANGUAGES);
        const documentTags = [...new Set([random.pick(tags).id, random.pick(tags).id])].slice(0, Math.floor(random.next() * 3)).sort();
        const status = random.pick(STATUSES);
        const created = new Date(Date.UTC(2026, 0, 1) + Math.floor(random.next() * 300 * 86_400_000));
        const [document]: { id: string }[] = await dataSource.query(
          `INSERT INTO documents (tenant_id, owner_id, title, summary, body, type, status, language, search_config, tag_names, tag_ids, author_ids, published_at, created_at,
                                  view_count, like_count)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT coalesce(string_agg(name, ' ' ORDER BY name), '') FROM tags WHERE id = ANY($10::uuid[])),
                   $10, $11, $12, $13, $14, $15)
           RETURNING id`,
          [
            tenant,
            random.pick(OWNERS),
            random.text(language, 2 + Math.floor(random.next() * 3)),
            random.text(language, 6),
            random.text(language, 20 + Math.floor(random.next() * 60)),
            random.pick(TYPES),
            status,
            language,
            VOCABULARY[language].config,
            documentTags,
            [random.pick(authors).id],
            status === 'draft' ? null : created,
            created,
            Math.floor(random.next() * 40),
            Math.floor(random.next() * 4),
          ],
        );
        if (random.next() < 0.25) {
          const translated = random.pick(LANGUAGES.filter((other) => other !== language));
          await dataSource.query(
            `INSERT INTO document_translations (tenant_id, document_id, language, search_config, title, summary, body, created_by, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
            [tenant, document.id, translated, VOCABULARY[translated].config, random.text(translated, 3), random.text(translated, 6), random.text(translated, 40), OWNERS[0]],
          );
        }
      }
    }
    await dataSource.query('ANALYZE');
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
