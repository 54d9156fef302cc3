import { AuthPrincipal } from '@multipult/auth';
import { isEditor } from '../../documents/document-access';
import { DocumentStatus, searchConfigFor } from '../../documents/document.entity';
import { DEFAULT_FACET_VALUES, DocumentFilter, MatchMode, SearchDocumentsInput, SearchSort } from '../dto';
import { TYPO_FUZZINESS } from '../typo-highlight';
import { isOr, webSearchTokens } from '../web-search-syntax';
import type { FacetCounts, MatchedRow, SearchRows, SearchSelection } from '../search.service';
import { ENGINE_CONFIGURATIONS, HEAD_PART, MATCH_PART, engineConfiguration, variantField } from './search-index.mapping';

export interface EngineSearchRequest {
  principal: AuthPrincipal;
  input: SearchDocumentsInput;
  sort: SearchSort.RELEVANCE | SearchSort.NEWEST;
  pageSize: number;
  fuzzy: boolean;
  selection: SearchSelection;
  /** The decoded cursor: the sort value and id of the last hit of the previous page. */
  after?: (string | number)[];
  /** Matches counted exactly at most (track_total_hits); beyond it the count is a lower bound. */
  totalHitsLimit: number;
}

/**
 * PostgreSQL's web search syntax (words, "quoted phrases", OR, -excluded) in OpenSearch's
 * simple_query_string, whose operators are `|`, `-` and quotes; nothing else is an operator.
 */
export function simpleQueryString(query: string): string {
  return webSearchTokens(query).map((token) => (isOr(token) ? '|' : token)).join(' ');
}

const SEARCH_FLAGS = 'OR|NOT|PHRASE|WHITESPACE';
/** How much more a word counts in the head (title, tags, summary) than in the body. */
const HEAD_BOOST = 2;

/**
 * The configurations whose fields a search reads: a variant's text is indexed only under its
 * language's configuration, so a language filter rules out the others' fields (fewer clauses to
 * score and fields to highlight: 0.91-0.94x of a Russian-only search's engine time on 100 000 documents).
 */
function searchedConfigurations(languages: string[] | undefined): string[] {
  if (!languages?.length) return ENGINE_CONFIGURATIONS;
  return [...new Set(languages.map((language) => engineConfiguration(searchConfigFor(language))))];
}

/**
 * The text condition on one variant: the query in each configuration's fields with its analyzer,
 * OR-ed (as PostgreSQL parses it in every configuration). Each configuration matches on its one
 * field of all four parts, with every word required; the words also found in the head (title,
 * tags, summary) add to the score. One head field rather than weights per part: ranking on the
 * title, tags and summary separately cost 15-25 % of the query (measured on 100 000 documents).
 */
function variantTextQuery(query: string, fuzzy: boolean, configurations: string[]): Record<string, unknown> {
  const words = simpleQueryString(query);
  const should = configurations.map((configuration) =>
    fuzzy
      ? // The first letter must be right (as Elasticsearch advises): far fewer terms to expand, a third off the fuzzy query.
        { match: { [`variants.${variantField('title', configuration)}`]: { query, fuzziness: `AUTO:${TYPO_FUZZINESS.oneTypoFrom},${TYPO_FUZZINESS.twoTyposFrom}`, prefix_length: 1, operator: 'and' } } }
      : {
          bool: {
            must: [
              {
                simple_query_string: {
                  query: words,
                  fields: [`variants.${variantField(MATCH_PART, configuration)}`],
                  default_operator: 'and',
                  flags: SEARCH_FLAGS,
                },
              },
            ],
            should: [
              {
                simple_query_string: {
                  query: words,
                  fields: [`variants.${variantField(HEAD_PART, configuration)}^${HEAD_BOOST}`],
                  default_operator: 'or',
                  flags: SEARCH_FLAGS,
                },
              },
            ],
          },
        },
  );
  return { bool: { should, minimum_should_match: 1 } };
}

function documentFilters(principal: AuthPrincipal, filter: DocumentFilter): Record<string, unknown>[] {
  const filters: Record<string, unknown>[] = [{ term: { tenant_id: principal.tenantId } }];
  if (!isEditor(principal)) {
    filters.push({
      bool: { should: [{ term: { status: DocumentStatus.PUBLISHED } }, { term: { owner_id: principal.userId } }], minimum_should_match: 1 },
    });
  }
  if (filter.types?.length) filters.push({ terms: { type: filter.types } });
  if (filter.statuses?.length) filters.push({ terms: { status: filter.statuses } });
  if (filter.from || filter.to) {
    filters.push({ range: { sort_at: { ...(filter.from && { gte: filter.from.toISOString() }), ...(filter.to && { lt: filter.to.toISOString() }) } } });
  }
  const related = (field: string, ids: string[] | undefined, mode: MatchMode | undefined) => {
    if (!ids?.length) return;
    const unique = [...new Set(ids)];
    if (mode === MatchMode.ALL) filters.push(...unique.map((id) => ({ term: { [field]: id } })));
    else filters.push({ terms: { [field]: unique } });
  };
  related('tag_ids', filter.tagIds, filter.tagMode);
  related('author_ids', filter.authorIds, filter.authorMode);
  return filters;
}

/**
 * The language a filter allows when it allows one: every match then has a matching variant in it,
 * so the language facet is that language with every matched document, counted without running the
 * text query again over the matches' variants (the nested facet: 0.89x a search's time with it).
 */
function soleLanguage(filter: DocumentFilter): string | undefined {
  const languages = new Set(filter.languages);
  return languages.size === 1 ? [...languages][0] : undefined;
}

/** A first page whose matches are counted: a next page exists when they are more than one page. */
const countedFirstPage = (request: EngineSearchRequest) => !request.after && (request.selection.totalCount || request.selection.facets);

/**
 * How the engine orders a page: by score alone (`score`), or by the sort value then the document id
 * (`sort`), the order cursors continue in. The id as tie-break is what costs (a keyword compared
 * for every hit that competes; sorting on the score alone took the same time as no sort): a
 * relevance first page in score order took 0.74-0.82x the engine's time (one and three words,
 * with facets; 100 000 documents, interleaved). Its ties are in index order, not by id, so it asks
 * SCORE_ORDER_WINDOW hits more than the page. When one of them ranks below the page's last hit,
 * every hit tied with that one came back, and ordering them by (score, id) gives the page `sort`
 * gives. When they all tie with it, the page is asked again in `sort` order (engineSearchRows
 * tells). Later pages continue a cursor, so they are asked in `sort` order; so are typo-tolerant
 * pages, whose title matches tie in long runs (4 scores in their first 25 hits of 835 on the
 * benchmark corpus).
 */
export type EngineOrder = 'score' | 'sort';

/**
 * The hits asked beyond the page in score order. With one, 50 of 400 random queries of one to three
 * words (100 000 documents) ended the page in a tie the extra hit did not close; with five, 3 of 400.
 * Each hit costs its inner hit (the best variant): about 0.05 ms.
 */
export const SCORE_ORDER_WINDOW = 5;

/** The order a page is asked in first (EngineOrder). */
export const firstEngineOrder = (request: EngineSearchRequest): EngineOrder =>
  request.sort === SearchSort.RELEVANCE && !request.after && !request.fuzzy ? 'score' : 'sort';

/**
 * The engine request for one page: documents with a variant holding the query, the best variant
 * as the inner hit, counted exactly up to the limit, faceted over every match, paged with
 * search_after on (score or date, id). The engine returns ids and scores only: it reads no stored
 * document, and the service highlights the hits from the texts it reads for them (highlight.ts).
 */
export function engineSearchBody(request: EngineSearchRequest, order: EngineOrder): Record<string, unknown> {
  const { input, selection } = request;
  const filter = input.filter ?? {};
  const configurations = searchedConfigurations(filter.languages);
  const variantQuery = {
    bool: {
      must: [variantTextQuery(input.query, request.fuzzy, configurations)],
      filter: filter.languages?.length ? [{ terms: { 'variants.language': filter.languages } }] : [],
    },
  };
  // The best variant's ids from doc values: reading them from _source would parse each hit's whole
  // stored document (its full text) again, which doubled a search's time in the engine.
  const innerHits = {
    size: 1,
    _source: false,
    docvalue_fields: ['variants.translation_id', 'variants.language'],
  };
  const relevance = request.sort === SearchSort.RELEVANCE;
  // The most frequent values (count descending, then value: the terms aggregation's order).
  const facetSize = input.maxValuesPerFacet ?? DEFAULT_FACET_VALUES;
  const onlyLanguage = soleLanguage(filter);
  const ordered =
    order === 'score'
      ? // The id from doc values, for the page's hits only (ordering ties by id).
        { size: request.pageSize + SCORE_ORDER_WINDOW, docvalue_fields: ['document_id'] }
      : {
          // One hit more tells whether there is a next page, except on a counted first page: there the
          // count tells (countedFirstPage), and each hit costs its fetch (its inner hit).
          size: request.pageSize + (countedFirstPage(request) ? 0 : 1),
          track_scores: true,
          // The id is the tie-break: a hit's id is its last sort value.
          sort: [relevance ? { _score: 'desc' } : { sort_at: 'desc' }, { document_id: 'asc' }],
          ...(request.after && { search_after: relevance ? request.after : [Math.round(Number(request.after[0]) * 1000), request.after[1]] }),
        };
  return {
    ...ordered,
    // Nothing is read from stored documents, not even `_id`: decompressing them was a quarter of a
    // search's engine time without highlights.
    _source: false,
    stored_fields: '_none_',
    track_total_hits: selection.totalCount || selection.facets ? request.totalHitsLimit : false,
    query: {
      bool: {
        filter: documentFilters(request.principal, filter),
        must: [{ nested: { path: 'variants', score_mode: 'max', query: variantQuery, inner_hits: innerHits } }],
      },
    },
    ...(selection.facets && {
      aggs: {
        types: { terms: { field: 'type', size: facetSize } },
        tags: { terms: { field: 'tag_ids', size: facetSize } },
        authors: { terms: { field: 'author_ids', size: facetSize } },
        ...(onlyLanguage
          ? { documents: { filter: { match_all: {} } } }
          : {
              variants: {
                nested: { path: 'variants' },
                aggs: { matched: { filter: variantQuery, aggs: { languages: { terms: { field: 'variants.language', size: facetSize }, aggs: { documents: { reverse_nested: {} } } } } } },
              },
            }),
      },
    }),
  };
}

interface EngineHit {
  _score: number | null;
  /** In `sort` order: the sort value (score or date), then the document id. */
  sort?: (string | number)[];
  /** In `score` order: the document id. */
  fields?: { document_id?: string[] };
  inner_hits: { variants: { hits: { hits: { fields?: { 'variants.translation_id'?: string[]; 'variants.language'?: string[] } }[] } } };
}

interface Bucket {
  key: string;
  doc_count: number;
  documents?: { doc_count: number };
}

export interface EngineSearchResponse {
  hits: { total?: { value: number; relation: 'eq' | 'gte' }; hits: EngineHit[] };
  aggregations?: {
    types: { buckets: Bucket[] };
    tags: { buckets: Bucket[] };
    authors: { buckets: Bucket[] };
    /** The language facet: per language with a filter of several or none, */
    variants?: { matched: { languages: { buckets: Bucket[] } } };
    /** or the matched documents with a filter of one (soleLanguage). */
    documents?: { doc_count: number };
  };
}

function languageCounts(aggregations: NonNullable<EngineSearchResponse['aggregations']>, request: EngineSearchRequest): Record<string, number> {
  const language = soleLanguage(request.input.filter ?? {});
  if (language) {
    const matched = aggregations.documents?.doc_count ?? 0;
    // As the nested facet: a language without matches has no bucket.
    return matched ? { [language]: matched } : {};
  }
  return Object.fromEntries((aggregations.variants?.matched.languages.buckets ?? []).map((bucket) => [bucket.key, bucket.documents?.doc_count ?? 0]));
}

const hitId = (hit: EngineHit) => String(hit.sort?.[1] ?? hit.fields?.document_id?.[0]);

/**
 * A score-ordered answer's hits in (score, id) order, or undefined when the page ends in a tie the
 * hits beyond it do not close (EngineOrder): then a hit tied with the page's last may not have come back.
 */
function scoreOrderedHits(response: EngineSearchResponse, request: EngineSearchRequest): EngineHit[] | undefined {
  const hits = response.hits.hits;
  // Fewer hits than asked are every match; otherwise the last must rank below the page's last.
  const askedAll = hits.length === request.pageSize + SCORE_ORDER_WINDOW;
  if (askedAll && !(Number(hits[hits.length - 1]._score) < Number(hits[request.pageSize - 1]._score))) return undefined;
  const ranked = hits.map((hit) => ({ hit, score: Number(hit._score), id: hitId(hit) }));
  ranked.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // As a `sort` page: the extra hit that tells a next page only where the count cannot tell.
  return ranked.slice(0, request.pageSize + (countedFirstPage(request) ? 0 : 1)).map(({ hit }) => hit);
}

/**
 * The engine's answer as the rows the PostgreSQL statement returns, so both assemble the same
 * result; undefined when a `score` page must be asked again in `sort` order.
 */
export function engineSearchRows(response: EngineSearchResponse, request: EngineSearchRequest, order: 'sort'): SearchRows;
export function engineSearchRows(response: EngineSearchResponse, request: EngineSearchRequest, order: EngineOrder): SearchRows | undefined;
export function engineSearchRows(response: EngineSearchResponse, request: EngineSearchRequest, order: EngineOrder): SearchRows | undefined {
  const hits = order === 'score' ? scoreOrderedHits(response, request) : response.hits.hits;
  if (!hits) return undefined;
  const page: MatchedRow[] = hits.map((hit) => {
    const best = hit.inner_hits.variants.hits.hits[0];
    const rank = Number(hit._score ?? 0);
    return {
      id: hitId(hit),
      // An original has no translation id: doc values leave the field out.
      translation_id: best?.fields?.['variants.translation_id']?.[0] ?? null,
      language: best?.fields?.['variants.language']?.[0] ?? '',
      rank,
      sort_value: request.sort === SearchSort.RELEVANCE ? rank : Number(hit.sort?.[0]) / 1000,
      // The service highlights the hits (highlight.ts).
      title_highlight: null,
      body_highlight: null,
    };
  });
  const total = response.hits.total;
  if (!total) return { page, counts: null };
  const hasNextPage = countedFirstPage(request) ? total.relation === 'gte' || total.value > request.pageSize : undefined;
  const byKey = (buckets: Bucket[]) => Object.fromEntries(buckets.map((bucket) => [bucket.key, bucket.doc_count]));
  const aggregations = response.aggregations;
  const counts: FacetCounts = {
    total: total.value,
    more: total.relation === 'gte',
    ...(aggregations && {
      types: byKey(aggregations.types.buckets),
      tags: byKey(aggregations.tags.buckets),
      authors: byKey(aggregations.authors.buckets),
      languages: languageCounts(aggregations, request),
    }),
  };
  return { page, counts, ...(hasNextPage !== undefined && { hasNextPage }) };
}
