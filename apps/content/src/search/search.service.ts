import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { SearchCacheService } from '../cache/search-cache.service';
import type { ContentConfig } from '../config';
import { isEditor } from '../documents/document-access';
import { Document, SEARCH_CONFIG_BY_LANGUAGE } from '../documents/document.entity';
import { Tag } from '../tags/tag.entity';
import { DocumentFilter, DocumentSearchResult, MatchMode, SearchDocumentsInput, SearchSort } from './dto';

/** Positional SQL parameters: `bind(value)` returns its `$n` placeholder. */
class SqlParameters {
  readonly values: unknown[] = [];

  bind(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const HEADLINE_OPTIONS = 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "';
// ts_headline returns the document's own text; escaping it first keeps stored HTML inert in clients.
const escapeHtml = (column: string) => `replace(replace(replace(${column}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')`;
/**
 * A query parsed with every text search configuration documents use, OR-ed, so one GIN index
 * serves all languages (and stop words and stems of any of them work).
 */
const inEveryConfiguration = (parser: 'to_tsquery' | 'websearch_to_tsquery', placeholder: string) =>
  `(${[...new Set([...Object.values(SEARCH_CONFIG_BY_LANGUAGE), 'simple'])]
    .map((configuration) => `${parser}('${configuration}', ${placeholder})`)
    .join(' || ')})`;

/** Trigram similarity a title needs for a typo-tolerant (fuzzy) hit. */
const FUZZY_SIMILARITY = 0.35;

interface FacetRow {
  facet: string;
  value: string;
  count: string;
}

interface MatchedRow {
  id: string;
  rank: number;
  sort_value: string;
  title_highlight: string;
  body_highlight: string;
}

@Injectable()
export class SearchService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ContentConfig,
    private readonly cache: SearchCacheService,
  ) {}

  /**
   * Full-text search over the caller's readable documents: the query is parsed with every text
   * search configuration in use (english, russian, simple) and OR-ed, so one GIN index serves all
   * languages; typo-tolerant title matching takes over when full text finds too little.
   */
  async search(principal: AuthPrincipal, input: SearchDocumentsInput): Promise<DocumentSearchResult> {
    const pageSize = input.first ?? DEFAULT_PAGE_SIZE;
    const sort = input.sort ?? SearchSort.RELEVANCE;
    const fullText = await this.run(principal, input, sort, pageSize, false);
    const useFuzzy =
      fullText.totalCount < this.config.SEARCH_FUZZY_THRESHOLD && !input.after && sort === SearchSort.RELEVANCE;
    const result = useFuzzy ? await this.run(principal, input, sort, pageSize, true) : fullText;
    return useFuzzy && result.totalCount > fullText.totalCount ? result : { ...fullText, fuzzy: false };
  }

  /** Titles for search-as-you-type: every word must match, the last one as a prefix. */
  async suggest(principal: AuthPrincipal, prefix: string, limit: number): Promise<{ id: string; title: string }[]> {
    const words = prefix.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    if (!words.length) return [];
    const tsquery = words.map((word, index) => (index === words.length - 1 ? `${word}:*` : word)).join(' & ');
    const params = new SqlParameters();
    const visible = this.visibility(principal, params);
    const bound = params.bind(tsquery);
    const query = inEveryConfiguration('to_tsquery', bound);
    return this.dataSource.query(
      `SELECT d.id, d.title FROM documents d
       WHERE ${visible} AND d.search_vector @@ ${query}
       ORDER BY ts_rank_cd(d.search_vector, ${query}) DESC, d.view_count + 5 * d.like_count DESC, d.id
       LIMIT ${params.bind(limit)}`,
      params.values,
    );
  }

  private async run(
    principal: AuthPrincipal,
    input: SearchDocumentsInput,
    sort: SearchSort,
    pageSize: number,
    fuzzy: boolean,
  ): Promise<DocumentSearchResult> {
    const params = new SqlParameters();
    const q = params.bind(input.query);
    const tsquery = inEveryConfiguration('websearch_to_tsquery', q);
    const match = fuzzy ? `${q} <% d.title` : `d.search_vector @@ query.q`;
    const rank = fuzzy ? `word_similarity(${q}, d.title)` : `ts_rank_cd(d.search_vector, query.q)`;
    const where = [this.visibility(principal, params), match, ...this.filters(input.filter ?? {}, params)];
    const sortValue = {
      [SearchSort.RELEVANCE]: `${rank}::float8`,
      [SearchSort.NEWEST]: `extract(epoch FROM coalesce(d.published_at, d.created_at))::float8`,
      [SearchSort.POPULAR]: `(d.view_count + 5 * d.like_count)::float8`,
    }[sort];
    const matched = `
      WITH query AS (SELECT ${tsquery} AS q),
      matched AS (
        SELECT d.id, d.language, d.type, ${rank}::float8 AS rank, ${sortValue} AS sort_value
        FROM documents d, query
        WHERE ${where.join(' AND ')}
      )`;
    // Facets need the same matches but no ranking, which is most of the cost on large match sets.
    const matchedForFacets = `
      WITH query AS (SELECT ${tsquery} AS q),
      matched AS (
        SELECT d.id, d.language, d.type
        FROM documents d, query
        WHERE ${where.join(' AND ')}
      )`;
    const facetParams = params.values.length;
    const after = input.after ? decodeCursor(input.after) : undefined;
    const keyset = after
      ? `WHERE (m.sort_value < ${params.bind(Number(after.sortValue))} OR (m.sort_value = ${params.bind(Number(after.sortValue))} AND m.id > ${params.bind(after.id)}::uuid))`
      : '';
    const query = () =>
      this.dataSource.transaction(async (manager) => {
        // `<%` (indexed) compares against this threshold; the default 0.6 misses most typos.
        if (fuzzy) {
          await manager.query(`SELECT set_config('pg_trgm.word_similarity_threshold', '${FUZZY_SIMILARITY}', true)`);
        }
        const page: MatchedRow[] = await manager.query(
          `${matched}
           SELECT m.id, m.rank, m.sort_value,
                  ts_headline(d.search_config, ${escapeHtml('d.title')}, query.q, 'HighlightAll=true, StartSel=<mark>, StopSel=</mark>') AS title_highlight,
                  ts_headline(d.search_config, ${escapeHtml("d.summary || ' ' || d.body")}, query.q, '${HEADLINE_OPTIONS}') AS body_highlight
           FROM (SELECT * FROM matched m ${keyset} ORDER BY m.sort_value DESC, m.id LIMIT ${params.bind(pageSize + 1)}) m
           JOIN documents d ON d.id = m.id, query
           ORDER BY m.sort_value DESC, m.id`,
          params.values,
        );
        const facetRows: FacetRow[] = await manager.query(
          `${matchedForFacets}
           SELECT 'total' AS facet, '' AS value, count(*) AS count FROM matched
           UNION ALL SELECT 'language', language, count(*) FROM matched GROUP BY language
           UNION ALL SELECT 'type', type, count(*) FROM matched GROUP BY type
           UNION ALL SELECT 'tag', dt.tag_id::text, count(*) FROM matched m JOIN document_tags dt ON dt.document_id = m.id GROUP BY dt.tag_id
           UNION ALL SELECT 'author', da.author_id::text, count(*) FROM matched m JOIN document_authors da ON da.document_id = m.id GROUP BY da.author_id`,
          params.values.slice(0, facetParams),
        );
        return { page, facetRows };
      });
    // Popularity changes with every view and like, so that order is never cached.
    const { page, facetRows } =
      sort === SearchSort.POPULAR
        ? await query()
        : await this.cache.getOrCompute(
            principal.tenantId as string,
            this.cacheScope(principal),
            { input, pageSize, fuzzy },
            query,
          );
    return this.assemble(page, facetRows, pageSize, fuzzy);
  }

  /** Whose view of the tenant a cached result is: editors share one, everybody else sees own drafts. */
  private cacheScope(principal: AuthPrincipal): string {
    return isEditor(principal) ? 'editors' : `user:${principal.userId}`;
  }

  private visibility(principal: AuthPrincipal, params: SqlParameters): string {
    const tenant = `d.tenant_id = ${params.bind(principal.tenantId)}::uuid`;
    if (isEditor(principal)) return tenant;
    return `${tenant} AND (d.status = 'published' OR d.owner_id = ${params.bind(principal.userId)}::uuid)`;
  }

  private filters(filter: DocumentFilter, params: SqlParameters): string[] {
    const conditions: string[] = [];
    if (filter.languages?.length) conditions.push(`d.language = ANY(${params.bind(filter.languages)}::text[])`);
    if (filter.types?.length) conditions.push(`d.type = ANY(${params.bind(filter.types)}::text[])`);
    if (filter.statuses?.length) conditions.push(`d.status = ANY(${params.bind(filter.statuses)}::text[])`);
    if (filter.from) conditions.push(`coalesce(d.published_at, d.created_at) >= ${params.bind(filter.from)}`);
    if (filter.to) conditions.push(`coalesce(d.published_at, d.created_at) < ${params.bind(filter.to)}`);
    const related = (table: string, column: string, ids: string[] | undefined, mode: MatchMode | undefined) => {
      if (!ids?.length) return;
      const unique = [...new Set(ids)];
      const list = params.bind(unique);
      conditions.push(
        mode === MatchMode.ALL
          ? `(SELECT count(*) FROM ${table} r WHERE r.document_id = d.id AND r.${column} = ANY(${list}::uuid[])) = ${unique.length}`
          : `EXISTS (SELECT 1 FROM ${table} r WHERE r.document_id = d.id AND r.${column} = ANY(${list}::uuid[]))`,
      );
    };
    related('document_tags', 'tag_id', filter.tagIds, filter.tagMode);
    related('document_authors', 'author_id', filter.authorIds, filter.authorMode);
    return conditions;
  }

  private async assemble(
    page: MatchedRow[],
    facetRows: FacetRow[],
    pageSize: number,
    fuzzy: boolean,
  ): Promise<DocumentSearchResult> {
    const rows = page.slice(0, pageSize);
    const facet = (name: string) =>
      facetRows
        .filter((row) => row.facet === name)
        .map((row) => ({ value: row.value, count: Number(row.count) }))
        .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
    const tagCounts = facet('tag');
    const authorCounts = facet('author');
    const [documents, tags, authors] = await Promise.all([
      rows.length ? this.dataSource.getRepository(Document).findBy({ id: In(rows.map((row) => row.id)) }) : [],
      tagCounts.length ? this.dataSource.getRepository(Tag).findBy({ id: In(tagCounts.map((t) => t.value)) }) : [],
      authorCounts.length ? this.dataSource.getRepository(Author).findBy({ id: In(authorCounts.map((a) => a.value)) }) : [],
    ]);
    const documentById = new Map(documents.map((document) => [document.id, document]));
    const tagById = new Map(tags.map((tag) => [tag.id, tag]));
    const authorById = new Map(authors.map((author) => [author.id, author]));
    const edges = rows
      .filter((row) => documentById.has(row.id))
      .map((row) => ({
        cursor: encodeCursor({ sortValue: String(row.sort_value), id: row.id }),
        node: {
          document: documentById.get(row.id) as Document,
          rank: Number(row.rank),
          highlight: { title: row.title_highlight, body: row.body_highlight },
        },
      }));
    return {
      edges,
      totalCount: facet('total')[0]?.count ?? 0,
      pageInfo: { hasNextPage: page.length > pageSize, endCursor: edges.at(-1)?.cursor ?? null },
      facets: {
        languages: facet('language'),
        types: facet('type'),
        tags: tagCounts.filter((t) => tagById.has(t.value)).map((t) => ({ tag: tagById.get(t.value) as Tag, count: t.count })),
        authors: authorCounts
          .filter((a) => authorById.has(a.value))
          .map((a) => ({ author: authorById.get(a.value) as Author, count: a.count })),
      },
      fuzzy,
    };
  }
}
