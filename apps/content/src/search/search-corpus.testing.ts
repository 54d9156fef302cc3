import { DataSource } from 'typeorm';
import type { AuthPrincipal } from '@multipult/auth';
import { eventEntities, eventMigrations } from '@multipult/events';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { Author } from '../authors/author.entity';
import type { DocumentCacheService, TranslationRef } from '../cache/document-cache.service';
import { Collection } from '../collections/collection.entity';
import { Comment } from '../comments/comment.entity';
import { DocumentVersion } from '../documents/document-version.entity';
import { Document } from '../documents/document.entity';
import { contentMigrations } from '../migrations';
import { Tag } from '../tags/tag.entity';
import { DocumentTranslation } from '../translations/translation.entity';
import { DocumentFilter, DocumentSearchResult, SearchDocumentsInput, SearchSort } from './dto';
import type { SearchService } from './search.service';

// The search specs' corpus and oracle: real PostgreSQL (DATABASE_URL from the jest global setup), one
// throwaway database per spec file, migrated like the service's own; a small generated corpus of two
// tenants in three languages.

export const TENANT = '0b6f0c1e-0000-4000-8000-000000000001';
export const OTHER_TENANT = '0b6f0c1e-0000-4000-8000-000000000002';
export const OWNERS = ['7d1e0000-0000-4000-8000-000000000001', '7d1e0000-0000-4000-8000-000000000002', '7d1e0000-0000-4000-8000-000000000003'];

export const VOCABULARY = {
  en: { config: 'english', words: 'river forest harbor night stone light garden winter song house bridge candle mountain letter window dream'.split(' ') },
  ru: { config: 'russian', words: 'ночь река лес дом старый песня берег окно зима письмо свеча мост гора сон сад камень'.split(' ') },
  tt: { config: 'simple', words: 'урман су көн төн тау кояш җир ай йолдыз ил авыл җыр'.split(' ') },
} as const;
type Language = keyof typeof VOCABULARY;
export const LANGUAGES = Object.keys(VOCABULARY) as Language[];
const TYPES = ['article', 'poem', 'prose', 'concept'];
const STATUSES = ['published', 'published', 'published', 'draft', 'archived'];

/** A deterministic generator, so failures reproduce. */
export function randomFrom(seed: number) {
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

export const principal = (userId: string, tenantId: string, permissions: string[]): AuthPrincipal =>
  ({ userId, tenantId, permissions, memberships: { [tenantId]: permissions } }) as unknown as AuthPrincipal;
export const EDITOR = principal(OWNERS[0], TENANT, ['content:read', 'content:write', 'content:publish']);
export const READER = principal(OWNERS[1], TENANT, ['content:read', 'content:write']);
export const OTHER_READER = principal(OWNERS[2], OTHER_TENANT, ['content:read']);

export const passThroughCache = { getOrCompute: (_tenant: string, _scope: string, _request: unknown, compute: () => Promise<unknown>) => compute() };
/** Documents always read from PostgreSQL: the specs write rows with SQL, which no cache hears of. */
export const passThroughDocumentCache = {
  getMany: async (ids: string[], loadMany: (ids: string[]) => Promise<Document[]>) => new Map((await loadMany(ids)).map((document) => [document.id, document])),
  getTranslations: async (refs: TranslationRef[], loadMany: (ids: string[]) => Promise<DocumentTranslation[]>) => {
    const byId = new Map((await loadMany(refs.map((ref) => ref.translationId))).map((translation) => [translation.id, translation]));
    return refs.map((ref) => byId.get(ref.translationId));
  },
} as unknown as DocumentCacheService;

export interface ReferenceHit {
  id: string;
  translation_id: string | null;
  language: string;
  rank: number;
}

export interface Reference {
  hits: ReferenceHit[];
  counts: { total: number; languages: Record<string, number> | null; types: Record<string, number> | null; tags: Record<string, number> | null; authors: Record<string, number> | null };
}

/**
 * The search as it was before bounded work (one statement over every match of the wide tables):
 * the oracle the bounded statement must agree with below its limits. Full text only.
 */
export async function referenceSearch(dataSource: DataSource, caller: AuthPrincipal, query: string, filter: DocumentFilter, sort: SearchSort): Promise<Reference> {
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
export async function allPages(service: SearchService, caller: AuthPrincipal, input: SearchDocumentsInput): Promise<{ first: DocumentSearchResult; hits: ReferenceHit[] }> {
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

export const countsOf = (values: { value: string; count: number }[]) => Object.fromEntries(values.map(({ value, count }) => [value, count]));

/** A migrated throwaway database with the corpus; the tenant's tag and author ids. */
export async function createSearchCorpus(name: string): Promise<{ database: TestDatabase; dataSource: DataSource; tagIds: string[]; authorIds: string[] }> {
  const tagIds: string[] = [];
  const authorIds: string[] = [];
  const database = await createTestDatabase(name);
  const dataSource = new DataSource({
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
  return { database, dataSource, tagIds, authorIds };
}
