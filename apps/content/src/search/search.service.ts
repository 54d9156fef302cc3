import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { AuthPrincipal } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { AppError, DEFAULT_PAGE_SIZE, ErrorCode, KeysetOrder } from '@multipult/graphql';
import { counter } from '@multipult/observability';
import { Author } from '../authors/author.entity';
import { AuthorsService } from '../authors/authors.service';
import { DocumentCacheService } from '../cache/document-cache.service';
import { SearchCacheService } from '../cache/search-cache.service';
import type { ContentConfig } from '../config';
import { canRead, isEditor } from '../documents/document-access';
import { Document, DocumentStatus, SEARCH_CONFIG_BY_LANGUAGE } from '../documents/document.entity';
import { Tag } from '../tags/tag.entity';
import { TagsService } from '../tags/tags.service';
import { DocumentTranslation } from '../translations/translation.entity';
import { CountRelation, DEFAULT_FACET_VALUES, DocumentFilter, DocumentSearchResult, MatchMode, SearchDocumentsInput, SearchSort } from './dto';
import { SearchEngine } from './engine/search-engine';
import { EngineOrder, EngineSearchRequest, EngineSearchResponse, engineSearchBody, engineSearchRows, firstEngineOrder } from './engine/search-engine.query';
import { engineConfiguration } from './engine/search-index.mapping';
import { fullTextHighlighter } from './highlight';
import { typoHighlighter } from './typo-highlight';

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

const engineRequests = () =>
  counter({
    name: 'content_search_engine_requests_total',
    help: 'Searches asked of the engine, by order (score, sort) and outcome (page; tie: a score-ordered page asked again in sort order)',
    labelNames: ['order', 'outcome'] as const,
  });

const SEARCH_CONFIGURATIONS = [...new Set([...Object.values(SEARCH_CONFIG_BY_LANGUAGE), 'simple'])];
/**
 * The query parsed with every text search configuration documents use and OR-ed, so one GIN index
 * serves all languages (stop words and stems of any of them work). Parses that come out the same
 * (a Russian word in `english` and `simple`, an English one in all three) are kept once, so no
 * match is tested and ranked twice for the same lexemes.
 */
const inEveryConfiguration = (parser: 'to_tsquery' | 'websearch_to_tsquery', placeholder: string) =>
  `(SELECT coalesce(string_agg(DISTINCT '(' || parsed.q::text || ')', ' | '), '')::tsquery
    FROM (VALUES ${SEARCH_CONFIGURATIONS.map((configuration) => `(${parser}('${configuration}', ${placeholder}))`).join(', ')}) parsed(q)
    WHERE numnode(parsed.q) > 0)`;

/** Hits by their sort value (rank, date or popularity), then id; the page's sort order and fuzziness scope a cursor. */
const SEARCH_ORDER = new KeysetOrder({
  connection: 'content.search',
  columns: [
    { expression: 'm.sort_value', type: 'float', direction: 'DESC' },
    { expression: 'm.id', type: 'uuid', direction: 'ASC' },
  ],
});
/** Which engine and mode ordered a page: a cursor continues only in the order it came from. */
const searchScope = (sort: SearchSort, fuzzy: boolean, engine = false) => `${sort}:${fuzzy ? 'fuzzy' : 'full-text'}${engine ? ':engine' : ''}`;

/**
 * The shape of a cached search entry, part of its key: 2 since the rows carry the service's
 * highlights. A replica of a release before reads and writes other keys, so during a rolling
 * upgrade none is served an entry it would show without highlights.
 */
const SEARCH_ENTRY_FORMAT = 2;

/** Trigram similarity a title needs for a typo-tolerant (fuzzy) hit. */
const FUZZY_SIMILARITY = 0.35;

/** Which parts of a result the caller selected; counting and faceting are skipped when not asked for. */
export interface SearchSelection {
  totalCount: boolean;
  facets: boolean;
  /** The hits' highlights (`ts_headline` over each hit's text is a good part of a search's cost). */
  highlights: boolean;
}

export interface FacetCounts {
  total: number;
  /** More matches than SEARCH_TOTAL_HITS_LIMIT: counts are lower bounds. */
  more: boolean;
  languages?: Record<string, number>;
  types?: Record<string, number>;
  tags?: Record<string, number>;
  authors?: Record<string, number>;
}

export interface MatchedRow {
  id: string;
  translation_id: string | null;
  language: string;
  rank: number;
  sort_value: number;
  /** Null when the query did not select highlights, or the service makes them (every hit from the engine, a typo-tolerant title). */
  title_highlight: string | null;
  body_highlight: string | null;
}

/** The texts of a page's hits: each hit's document, the translation that matched, and the one of them that matched. */
interface HitTexts {
  document(hit: MatchedRow): Document | undefined;
  translation(hit: MatchedRow): DocumentTranslation | null;
  variant(hit: MatchedRow): Document | DocumentTranslation | undefined;
}

export interface SearchRows {
  /** The page's rows, and one more when there is a next page, unless `hasNextPage` says so. */
  page: MatchedRow[];
  counts: FacetCounts | null;
  /** Whether a next page exists, when known from the counts (then `page` holds no extra row). */
  hasNextPage?: boolean;
}

@Injectable()
export class SearchService {
  private readonly logger = new Logger(SearchService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: ContentConfig,
    private readonly cache: SearchCacheService,
    private readonly engine: SearchEngine,
    private readonly documentCache: DocumentCacheService,
    private readonly tags: TagsService,
    private readonly authors: AuthorsService,
  ) {
    // Registered at start, not on the first search, so dashboards find the series from the start.
    engineRequests();
  }

  /**
   * Full-text search over the caller's readable documents and their translations: a document
   * matches through its original or any translation, and is returned once, with the best-ranked
   * of them highlighted. Typo-tolerant title matching takes over when full text finds too little.
   */
  async search(
    principal: AuthPrincipal,
    input: SearchDocumentsInput,
    selection: SearchSelection = { totalCount: true, facets: true, highlights: true },
  ): Promise<DocumentSearchResult> {
    const pageSize = input.first ?? DEFAULT_PAGE_SIZE;
    const sort = input.sort ?? SearchSort.RELEVANCE;
    const engine = await this.servedByEngine(sort);
    // The texts of the hits, when a search (not the cache) found them: read to highlight, kept to assemble.
    let texts: HitTexts | undefined;
    const find = async () => {
      const found = await this.matches(principal, input, sort, pageSize, selection, engine);
      if (!selection.highlights) return found;
      texts = await this.hitTexts(found.rows.page.slice(0, pageSize));
      return { ...found, rows: this.highlighted(found, texts, input.query) };
    };
    // Popularity changes with every view and like, so that order is never cached. A first page's
    // entry holds the outcome of the typo fallback too (a typo search is one lookup, not two), and
    // the highlights the service made (a cached search makes none).
    const key = { input, pageSize, selection, engine, format: SEARCH_ENTRY_FORMAT };
    const { fuzzy, rows } = sort === SearchSort.POPULAR ? await find() : await this.cache.getOrCompute(principal.tenantId as string, this.cacheScope(principal), key, find);
    return this.assemble(principal, rows, pageSize, searchScope(sort, fuzzy, engine), fuzzy, texts);
  }

  /**
   * The rows with the highlights they leave to the service made from the hits' texts: every one of
   * the engine's, a typo-tolerant hit's title of PostgreSQL's (its ts_headline makes the rest).
   */
  private highlighted({ fuzzy, rows }: { fuzzy: boolean; rows: SearchRows }, texts: HitTexts, query: string): SearchRows {
    const highlighter = fuzzy ? typoHighlighter(query) : fullTextHighlighter(query);
    const page = rows.page.map((hit) => {
      const variant = texts.variant(hit);
      if (!variant || (hit.title_highlight !== null && hit.body_highlight !== null)) return hit;
      const made = highlighter(variant, engineConfiguration(variant.searchConfig));
      return { ...hit, title_highlight: hit.title_highlight ?? made.title, body_highlight: hit.body_highlight ?? made.body };
    });
    return { ...rows, page };
  }

  /** The documents of hits and the translations that matched, read through the document cache. */
  private async hitTexts(hits: MatchedRow[]): Promise<HitTexts> {
    const translationRefs = hits.flatMap((hit) => (hit.translation_id ? [{ documentId: hit.id, translationId: hit.translation_id }] : []));
    const [documentById, translations] = await Promise.all([
      this.documentCache.getMany(
        hits.map((hit) => hit.id),
        (ids) => this.dataSource.getRepository(Document).findBy({ id: In(ids) }),
      ),
      this.documentCache.getTranslations(translationRefs, (ids) => this.dataSource.getRepository(DocumentTranslation).findBy({ id: In(ids) })),
    ]);
    const translationById = new Map(translations.flatMap((translation) => (translation ? [[translation.id, translation]] : [])));
    const translation = (hit: MatchedRow) => (hit.translation_id && translationById.get(hit.translation_id)) || null;
    return {
      document: (hit) => documentById.get(hit.id),
      translation,
      variant: (hit) => translation(hit) ?? documentById.get(hit.id),
    };
  }

  /** The page's rows, and whether typo-tolerant matching found them. */
  private async matches(
    principal: AuthPrincipal,
    input: SearchDocumentsInput,
    sort: SearchSort,
    pageSize: number,
    selection: SearchSelection,
    engine: boolean,
  ): Promise<{ fuzzy: boolean; rows: SearchRows }> {
    const rows = (fuzzy: boolean, rowSelection: SearchSelection) => this.rows(principal, input, sort, pageSize, fuzzy, rowSelection, engine);
    if (input.after) {
      // A later page continues in the mode of the first: fuzzy ranks are another order than full-text ones.
      const fuzzy = SEARCH_ORDER.accepts(input.after, searchScope(sort, true, engine));
      return { fuzzy, rows: await rows(fuzzy, selection) };
    }
    if (sort !== SearchSort.RELEVANCE) return { fuzzy: false, rows: await rows(false, selection) };
    // Whether to fall back to fuzzy matching depends on the total, so count it.
    const fullText = await rows(false, { ...selection, totalCount: true });
    const fullTextTotal = fullText.counts?.total ?? 0;
    if (fullTextTotal >= this.config.SEARCH_FUZZY_THRESHOLD) return { fuzzy: false, rows: fullText };
    const fuzzy = await rows(true, { ...selection, totalCount: true });
    return (fuzzy.counts?.total ?? 0) > fullTextTotal ? { fuzzy: true, rows: fuzzy } : { fuzzy: false, rows: fullText };
  }

  /** Titles for search-as-you-type (originals and translations): every word must match, the last one as a prefix. */
  async suggest(principal: AuthPrincipal, prefix: string, limit: number): Promise<{ id: string; title: string }[]> {
    const words = prefix.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    if (!words.length) return [];
    const tsquery = words.map((word, index) => (index === words.length - 1 ? `${word}:*` : word)).join(' & ');
    const params = new SqlParameters();
    const query = inEveryConfiguration('to_tsquery', params.bind(tsquery));
    const visible = this.visibility(principal, params);
    const tenant = params.bind(principal.tenantId);
    return this.dataSource.query(
      `WITH query AS MATERIALIZED (SELECT ${query} AS q),
       titles AS (
         SELECT d.id, d.title, ts_rank_cd(d.search_vector, query.q) AS rank, d.view_count + 5 * d.like_count AS popularity
         FROM documents d, query WHERE ${visible} AND d.search_vector @@ query.q
         UNION ALL
         SELECT d.id, t.title, ts_rank_cd(t.search_vector, query.q), d.view_count + 5 * d.like_count
         FROM document_translations t JOIN documents d ON d.id = t.document_id, query
         WHERE t.tenant_id = ${tenant}::uuid AND ${visible} AND t.search_vector @@ query.q
       )
       SELECT id, title FROM (SELECT DISTINCT ON (id) * FROM titles ORDER BY id, rank DESC) best
       ORDER BY rank DESC, popularity DESC, id
       LIMIT ${params.bind(limit)}`,
      params.values,
    );
  }

  private async rows(
    principal: AuthPrincipal,
    input: SearchDocumentsInput,
    sort: SearchSort,
    pageSize: number,
    fuzzy: boolean,
    selection: SearchSelection,
    engine: boolean,
  ): Promise<SearchRows> {
    const after = SEARCH_ORDER.decode(input.after, searchScope(sort, fuzzy, engine), 'input.after');
    if (engine) {
      return this.engineRows({ principal, input, sort: sort as EngineSearchRequest['sort'], pageSize, fuzzy, selection, after, totalHitsLimit: this.config.SEARCH_TOTAL_HITS_LIMIT });
    }
    return this.dataSource.transaction(async (manager) => {
      // JIT compilation costs more than these queries run, and parallel workers only queue behind
      // other searches; `<%` (indexed) compares against the trigram threshold, whose default (0.6)
      // misses most typos. A search's best plan depends on its words and filters, so a prepared
      // one (DATABASE_STATEMENT_CACHE_SIZE) is still planned for its values, never generically.
      await manager.query(
        `SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true),
                set_config('pg_trgm.word_similarity_threshold', '${FUZZY_SIMILARITY}', true),
                set_config('plan_cache_mode', 'force_custom_plan', true)`,
      );
      const statement = this.statement(principal, input, sort, pageSize, fuzzy, selection, after);
      const [rows]: SearchRows[] = await manager.query(statement.sql, statement.values);
      return rows;
    });
  }

  /**
   * Relevance and date order come from the engine when there is one and its index is of this
   * code's layout (PostgreSQL answers while the next layout is built); popularity changes with
   * every view and like, which an index would trail, so PostgreSQL orders by it.
   */
  private async servedByEngine(sort: SearchSort): Promise<boolean> {
    if (!this.engine.enabled || sort === SearchSort.POPULAR) return false;
    try {
      return await this.engine.serving();
    } catch (error) {
      this.logger.error({ err: error }, 'The search engine did not answer which index serves');
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'errors.service_unavailable');
    }
  }

  /** A page from the engine: asked in score order where that serves, in sort order where it cannot tell ties apart (EngineOrder). */
  private async engineRows(request: EngineSearchRequest): Promise<SearchRows> {
    const search = async (order: EngineOrder) => {
      const response = await this.engine.requireClient().search({ index: this.engine.alias, body: engineSearchBody(request, order) as never });
      return response.body as unknown as EngineSearchResponse;
    };
    try {
      const order = firstEngineOrder(request);
      const rows = engineSearchRows(await search(order), request, order);
      engineRequests().inc({ order, outcome: rows ? 'page' : 'tie' });
      if (rows) return rows;
      engineRequests().inc({ order: 'sort', outcome: 'page' });
      return engineSearchRows(await search('sort'), request, 'sort');
    } catch (error) {
      this.logger.error({ err: error }, 'The search engine did not answer a search');
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'errors.service_unavailable');
    }
  }

  /**
   * One statement for the page and the counts, with work bounded by SEARCH_TOTAL_HITS_LIMIT:
   * - `bounded`: the first limit + 1 matching variants (originals and translations passing
   *   visibility and filters), in index order, from the narrow entries table (full text) with
   *   a cheap first-pass rank on the small head vector (title, tags, summary);
   * - counts and facets over the first `limit` of them; one more says the count is a lower bound;
   * - relevance: the best SEARCH_RESCORE_WINDOW by first pass are ranked by ts_rank_cd on the full
   *   vector (sort values in [1, 2)), the rest of `bounded` follow in first-pass order ([0, 1)),
   *   read only when a page reaches past the rescored ones;
   * - newest and popular order every match (narrow rows; popularity reads the document).
   * Fuzzy (trigram) matching reads the titles of documents and translations and ranks them all.
   */
  private statement(
    principal: AuthPrincipal,
    input: SearchDocumentsInput,
    sort: SearchSort,
    pageSize: number,
    fuzzy: boolean,
    selection: SearchSelection,
    after: (string | number)[] | undefined,
  ): { sql: string; values: unknown[] } {
    const params = new SqlParameters();
    const text = params.bind(input.query);
    const limit = this.config.SEARCH_TOTAL_HITS_LIMIT;
    const ranked = sort === SearchSort.RELEVANCE;
    const matches = fuzzy
      ? this.fuzzyMatches(principal, input.filter ?? {}, sort, text, params)
      : this.fullTextMatches(principal, input.filter ?? {}, sort, selection.facets, params);
    const seek = () => (after ? `WHERE ${SEARCH_ORDER.seek(after, (value) => params.bind(value))}` : '');
    const pageLimit = params.bind(pageSize + 1);
    const ordered = ranked
      ? `candidates AS MATERIALIZED (
           SELECT * FROM bounded ORDER BY first_pass DESC, id, translation_id NULLS FIRST
           LIMIT ${fuzzy ? limit + 1 : this.config.SEARCH_RESCORE_WINDOW}
         ),
         rescored AS MATERIALIZED (
           -- One hit per document: its best-ranked variant, the original on a tie.
           SELECT DISTINCT ON (id) id, translation_id, language, rank, 1 + rank / (1 + rank) AS sort_value
           FROM (SELECT id, translation_id, language, ${fuzzy ? 'first_pass' : 'ts_rank_cd(search_vector, query.q)::float8'} AS rank
                 FROM candidates, query) c
           ORDER BY id, rank DESC, translation_id NULLS FIRST
         ),
         remainder AS (
           SELECT DISTINCT ON (id) id, translation_id, language, NULL::float8 AS rank, first_pass / (1 + first_pass) AS sort_value
           FROM bounded
           WHERE id NOT IN (SELECT id FROM rescored)
             AND (SELECT count(*) FROM rescored m ${seek()}) <= ${pageSize}
           ORDER BY id, first_pass DESC, translation_id NULLS FIRST
         ),
         ordered AS (SELECT * FROM rescored UNION ALL SELECT * FROM remainder)`
      : `ordered AS (
           -- One hit per document, the original when it matches.
           SELECT DISTINCT ON (id) id, translation_id, language, NULL::float8 AS rank, sort_value
           FROM (${matches}) v ORDER BY id, translation_id NULLS FIRST
         )`;
    // A document's variants share its type, tags and authors: grouping by them (hashed) is one row per document.
    const counted = selection.facets
      ? `counted AS MATERIALIZED (SELECT id, language, type, tag_ids, author_ids FROM bounded LIMIT ${limit}),
         counted_documents AS MATERIALIZED (SELECT id, type, tag_ids, author_ids FROM counted GROUP BY id, type, tag_ids, author_ids),`
      : `counted_documents AS MATERIALIZED (SELECT id FROM (SELECT id FROM bounded LIMIT ${limit}) c GROUP BY id),`;
    const total = `'total', (SELECT count(*) FROM counted_documents), 'more', (SELECT count(*) > ${limit} FROM bounded)`;
    // Each facet's most frequent values, as many as asked for: count descending, then value (byte order, as the engine's).
    const facetValues = selection.facets ? params.bind(input.maxValuesPerFacet ?? DEFAULT_FACET_VALUES) : '';
    const topValues = (value: string, counted: string, rows: string) =>
      `(SELECT json_object_agg(${value}, n) FROM (
         SELECT ${value}, count(${counted}) AS n FROM ${rows} GROUP BY ${value} ORDER BY n DESC, ${value}::text COLLATE "C" LIMIT ${facetValues}
       ) f)`;
    const counts = selection.facets
      ? `json_build_object(${total},
           'languages', ${topValues('language', 'DISTINCT id', 'counted')},
           'types', ${topValues('type', '*', 'counted_documents')},
           'tags', ${topValues('tag_id', '*', '(SELECT unnest(tag_ids) AS tag_id FROM counted_documents) u')},
           'authors', ${topValues('author_id', '*', '(SELECT unnest(author_ids) AS author_id FROM counted_documents) u')})`
      : selection.totalCount
        ? `json_build_object(${total})`
        : 'NULL::json';
    // A typo-tolerant hit's title is marked by the service (markTypoMatches): its words hold no lexeme of the query.
    const titleHighlight = fuzzy
      ? 'NULL AS title_highlight'
      : `ts_headline(coalesce(t.search_config, d.search_config), ${escapeHtml('coalesce(t.title, d.title)')}, query.q,
                     'HighlightAll=true, StartSel=<mark>, StopSel=</mark>') AS title_highlight`;
    const highlights = `
      ${titleHighlight},
      ts_headline(coalesce(t.search_config, d.search_config),
                  ${escapeHtml("coalesce(t.summary, d.summary) || ' ' || coalesce(t.body, d.body)")}, query.q,
                  '${HEADLINE_OPTIONS}') AS body_highlight`;
    const sql = `
      WITH query AS MATERIALIZED (
        -- any_q: the query's lexemes OR-ed, for the first pass to credit heads holding some of the words.
        SELECT q, (SELECT string_agg(DISTINCT '''' || m[1] || '''', ' | ') FROM regexp_matches(q::text, '''((?:[^'']|'''')+)''', 'g') m)::tsquery AS any_q
        FROM (SELECT ${inEveryConfiguration('websearch_to_tsquery', text)} AS q) parsed
      ),
      bounded AS MATERIALIZED (${matches} LIMIT ${limit + 1}),
      ${selection.facets || selection.totalCount ? counted : ''}
      ${ordered},
      page AS (
        SELECT * FROM ordered m
        ${seek()}
        ORDER BY ${SEARCH_ORDER.orderBy()}
        LIMIT ${pageLimit}
      )
      SELECT
        (SELECT coalesce(json_agg(hit ORDER BY hit.sort_value DESC, hit.id), '[]'::json) FROM (
           SELECT p.id, p.translation_id, p.language, p.sort_value,
                  coalesce(p.rank, ${fuzzy ? `word_similarity(${text}, coalesce(t.title, d.title))` : 'ts_rank_cd(coalesce(t.search_vector, d.search_vector), query.q)'}) AS rank,
                  ${selection.highlights ? highlights : 'NULL AS title_highlight, NULL AS body_highlight'}
           FROM page p JOIN documents d ON d.id = p.id LEFT JOIN document_translations t ON t.id = p.translation_id, query
         ) hit) AS page,
        ${counts} AS counts`;
    return { sql, values: params.values };
  }

  /**
   * Full-text matches from the narrow entries table. Tenant, visibility, language, type and status
   * are also `filter_keys` conditions, which the GIN index applies with the words; the column
   * conditions beside them say the same and are what the rows are checked against.
   */
  private fullTextMatches(principal: AuthPrincipal, filter: DocumentFilter, sort: SearchSort, facets: boolean, params: SqlParameters): string {
    const keys = (prefix: string, values: string[]) => params.bind(values.map((value) => `${prefix}:${value}`));
    // Ids go through uuid for their keys, so they are spelled as the stored ones (lower case).
    const tenant = params.bind(principal.tenantId);
    const conditions = [`e.search_vector @@ query.q`, `e.filter_keys @> ARRAY['n:' || ${tenant}::uuid::text]`, `e.tenant_id = ${tenant}::uuid`];
    if (!isEditor(principal)) {
      const user = params.bind(principal.userId);
      conditions.push(
        `e.filter_keys && ARRAY['s:${DocumentStatus.PUBLISHED}', 'o:' || ${user}::uuid::text]`,
        `(e.status = '${DocumentStatus.PUBLISHED}' OR e.owner_id = ${user}::uuid)`,
      );
    }
    const keyed = (prefix: string, column: string, values: string[] | undefined) => {
      if (!values?.length) return;
      conditions.push(`e.filter_keys && ${keys(prefix, values)}::text[]`, `e.${column} = ANY(${params.bind(values)}::text[])`);
    };
    keyed('l', 'language', filter.languages);
    keyed('t', 'type', filter.types);
    keyed('s', 'status', filter.statuses);
    conditions.push(...this.documentFilters(filter, params, 'e', 'e.sort_at'));
    const sortValue = {
      [SearchSort.RELEVANCE]: 'NULL::float8',
      [SearchSort.NEWEST]: 'extract(epoch FROM e.sort_at)::float8',
      [SearchSort.POPULAR]: '(d.view_count + 5 * d.like_count)::float8',
    }[sort];
    // ts_rank (not _cd) credits a head holding some of the words; most matches hold none in their
    // head, and the containment test is cheaper than ranking them all at 0.
    const firstPass =
      sort === SearchSort.RELEVANCE ? 'CASE WHEN e.head_vector @@ query.any_q THEN ts_rank(e.head_vector, query.q)::float8 ELSE 0 END' : 'NULL::float8';
    // Only facets read tags and authors: other searches do not copy them.
    const facetColumns = facets ? 'e.tag_ids, e.author_ids' : "'{}'::uuid[] AS tag_ids, '{}'::uuid[] AS author_ids";
    return `
      SELECT e.document_id AS id, e.translation_id, e.language, e.type, ${facetColumns},
             ${firstPass} AS first_pass, ${sortValue} AS sort_value, e.search_vector
      FROM document_search_entries e ${sort === SearchSort.POPULAR ? 'JOIN documents d ON d.id = e.document_id' : ''}, query
      WHERE ${conditions.join(' AND ')}`;
  }

  /** Typo-tolerant title matches of documents and translations (trigram indexes), ranked by similarity. */
  private fuzzyMatches(principal: AuthPrincipal, filter: DocumentFilter, sort: SearchSort, text: string, params: SqlParameters): string {
    const tenant = params.bind(principal.tenantId);
    const visible = this.visibility(principal, params);
    const documentFilters = this.documentFilters(filter, params, 'd', 'coalesce(d.published_at, d.created_at)');
    const languages = filter.languages?.length ? params.bind(filter.languages) : undefined;
    const inLanguages = (column: string) => (languages ? [`${column} = ANY(${languages}::text[])`] : []);
    const sortValue = {
      [SearchSort.RELEVANCE]: 'NULL::float8',
      [SearchSort.NEWEST]: 'extract(epoch FROM coalesce(d.published_at, d.created_at))::float8',
      [SearchSort.POPULAR]: '(d.view_count + 5 * d.like_count)::float8',
    }[sort];
    const similarity = (table: 'd' | 't') => (sort === SearchSort.RELEVANCE ? `word_similarity(${text}, ${table}.title)::float8` : 'NULL::float8');
    return `
      SELECT * FROM (
        SELECT d.id, NULL::uuid AS translation_id, d.language, d.type, d.tag_ids, d.author_ids,
               ${similarity('d')} AS first_pass, ${sortValue} AS sort_value, NULL::tsvector AS search_vector
        FROM documents d
        WHERE ${[visible, `${text} <% d.title`, ...documentFilters, ...inLanguages('d.language')].join(' AND ')}
        UNION ALL
        SELECT d.id, t.id, t.language, d.type, d.tag_ids, d.author_ids, ${similarity('t')}, ${sortValue}, NULL::tsvector
        FROM document_translations t JOIN documents d ON d.id = t.document_id
        WHERE ${[`t.tenant_id = ${tenant}::uuid`, visible, `${text} <% t.title`, ...documentFilters, ...inLanguages('t.language')].join(' AND ')}
      ) fuzzy`;
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

  /**
   * Conditions on the document that hold for every variant of it (`alias`: documents or entries,
   * which carry the document's columns); languages are per variant. Types and statuses are
   * conditions here only for documents: entries test them with their filter keys.
   */
  private documentFilters(filter: DocumentFilter, params: SqlParameters, alias: 'd' | 'e', dateColumn: string): string[] {
    const conditions: string[] = [];
    if (alias === 'd' && filter.types?.length) conditions.push(`d.type = ANY(${params.bind(filter.types)}::text[])`);
    if (alias === 'd' && filter.statuses?.length) conditions.push(`d.status = ANY(${params.bind(filter.statuses)}::text[])`);
    if (filter.from) conditions.push(`${dateColumn} >= ${params.bind(filter.from)}`);
    if (filter.to) conditions.push(`${dateColumn} < ${params.bind(filter.to)}`);
    const related = (column: string, ids: string[] | undefined, mode: MatchMode | undefined) => {
      if (!ids?.length) return;
      const list = `${params.bind([...new Set(ids)])}::uuid[]`;
      conditions.push(mode === MatchMode.ALL ? `${alias}.${column} @> ${list}` : `${alias}.${column} && ${list}`);
    };
    related('tag_ids', filter.tagIds, filter.tagMode);
    related('author_ids', filter.authorIds, filter.authorMode);
    return conditions;
  }

  /** `found`: the hits' texts when the search read them (not a cached page). */
  private async assemble(principal: AuthPrincipal, rows: SearchRows, pageSize: number, scope: string, fuzzy: boolean, found?: HitTexts): Promise<DocumentSearchResult> {
    const tenantId = principal.tenantId as string;
    const hits = rows.page.slice(0, pageSize);
    const counts = rows.counts;
    const byCount = (values: Record<string, number> | null | undefined) =>
      Object.entries(values ?? {})
        .map(([value, count]) => ({ value, count: Number(count) }))
        .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    const tagCounts = byCount(counts?.tags);
    const authorCounts = byCount(counts?.authors);
    const [texts, tags, authors] = await Promise.all([
      found ?? this.hitTexts(hits),
      this.tags.findByIds(tenantId, tagCounts.map((t) => t.value)),
      this.authors.findByIds(tenantId, authorCounts.map((a) => a.value)),
    ]);
    const tagById = new Map(tags.flatMap((tag) => (tag ? [[tag.id, tag]] : [])));
    const authorById = new Map(authors.flatMap((author) => (author ? [[author.id, author]] : [])));
    const cursorOf = (hit: MatchedRow) => SEARCH_ORDER.encode([hit.sort_value, hit.id], scope);
    const edges = hits
      // The rows may trail the documents (an engine whose queue is behind, a cached page): a hit
      // whose document is gone, or that the reader may no longer see (unpublished), is left out.
      .filter((hit) => {
        const document = texts.document(hit);
        return document !== undefined && canRead(principal, document);
      })
      .map((hit) => ({
        cursor: cursorOf(hit),
        // Empty highlights only when not selected, so never read.
        node: {
          document: texts.document(hit) as Document,
          translation: texts.translation(hit),
          language: hit.language,
          rank: Number(hit.rank),
          highlight: { title: hit.title_highlight ?? '', body: hit.body_highlight ?? '' },
        },
      }));
    const relation = counts?.more ? CountRelation.GTE : CountRelation.EQ;
    return {
      edges,
      totalCount: counts?.total ?? 0,
      totalCountRelation: relation,
      // The last hit's cursor even when its document has just been deleted, so the next page starts after it.
      pageInfo: { hasNextPage: rows.hasNextPage ?? rows.page.length > pageSize, endCursor: hits.length ? cursorOf(hits[hits.length - 1]) : null },
      facets: {
        languages: byCount(counts?.languages),
        types: byCount(counts?.types),
        tags: tagCounts.filter((t) => tagById.has(t.value)).map((t) => ({ tag: tagById.get(t.value) as Tag, count: t.count })),
        authors: authorCounts
          .filter((a) => authorById.has(a.value))
          .map((a) => ({ author: authorById.get(a.value) as Author, count: a.count })),
        countRelation: relation,
      },
      fuzzy,
    };
  }
}
