import { SEARCH_CONFIG_BY_LANGUAGE } from '../../documents/document.entity';

/**
 * The text search configurations documents use (PostgreSQL's names), each with the OpenSearch
 * analyzer that does the same: stemming and stop words of the language, or none (`simple`).
 */
export const ENGINE_ANALYZERS: Record<string, string> = { english: 'english', russian: 'russian', simple: 'standard' };
export const ENGINE_CONFIGURATIONS = [...new Set([...Object.values(SEARCH_CONFIG_BY_LANGUAGE), 'simple'])];

/** The configuration whose fields hold a text of this PostgreSQL configuration (`simple` when the engine has no analyzer for it). */
export const engineConfiguration = (configuration: string) => (ENGINE_CONFIGURATIONS.includes(configuration) ? configuration : 'simple');

/**
 * The searched parts of a variant (PostgreSQL's weights A, B, C, D). Matching runs on one field
 * holding all four (MATCH_PART); the words also found in the head (title, tags and summary, as
 * PostgreSQL's first pass) rank the match higher (HEAD_PART).
 */
const TEXT_PARTS = ['title', 'tags', 'summary', 'body'] as const;
export const MATCH_PART = 'all';
export const HEAD_PART = 'head';
const HEAD_PARTS: readonly string[] = ['title', 'tags', 'summary'];

/**
 * How each part is indexed on its own (layout 4). The parts are the sources of the combined fields;
 * only the title is searched by itself (the typo fallback's fuzzy match, which scores by term
 * frequencies and reads no positions). Highlights are the service's, so nothing keeps offsets.
 * Against layout 3 (every part indexed with offsets), 50 000 documents took 0.61x the time to
 * write and 0.72x the space merged, and searches took the same time (0.94-1.03x, same hits).
 */
const PART_INDEXING: Record<(typeof TEXT_PARTS)[number], Record<string, unknown>> = {
  title: { index_options: 'freqs' },
  tags: { index: false },
  summary: { index: false },
  body: { index: false },
};

/** A variant's part in one configuration, relative to the variant: `english.title`, `russian.all`... */
export const variantField = (part: string, configuration: string) => `${configuration}.${part}`;

/**
 * How the index merges its segments, as settings of the index (dynamic: put on an index made
 * before them too). A search visits every segment; with the defaults (10 segments a tier, tiers
 * above 2 MB) 100 000 documents written in refreshed batches sat in 20 segments. Counting every
 * segment under 32 MB as one tier of at most 4 left 9: searches took 0.76-0.89x of the engine's
 * CPU (the typo query 1.03x), and that bulk write 1.21x the time. A 128 MB floor gave 0.69-0.82x
 * for 1.88x the write time. A read-mostly index's trade: bulk writes pay (a trickle of single
 * writes merged less than under the defaults, measured with the 128 MB floor).
 */
export const SEARCH_INDEX_MERGE_POLICY = { 'index.merge.policy.floor_segment': '32mb', 'index.merge.policy.segments_per_tier': 4 };

/**
 * Every file of the index memory-mapped. The engine's default (hybridfs) maps only some: it reads
 * positions (.pos) and stored documents (.fdt) with a system call per read. Chosen in layout 3,
 * when the engine highlighted and read both for every hit (one client's searches took 0.87-0.95x
 * the time, 100 000 documents, interleaved). Since layout 4 the service highlights and no search
 * reads stored documents; phrase queries still read positions. A static setting, kept by every
 * layout since.
 */
const SEARCH_INDEX_STORE = { 'index.store.type': 'mmapfs' };

/**
 * One engine document per platform document; its original and translations are nested variants,
 * so a document matches when one of its texts holds the query (as in PostgreSQL), is counted and
 * faceted once, and brings the best-matching variant back as its inner hit. A variant's text is
 * indexed only under its configuration's object (`variants.russian.title`...): the query is run
 * against each configuration's fields with that configuration's analyzer and OR-ed. Each
 * configuration also copies the four parts into one field (`variants.english.all`) that the query
 * matches on: one field's postings per word instead of four's (PostgreSQL's one vector), and words
 * may be in different parts, as in PostgreSQL; and the title, tags and summary into another
 * (`head`) that ranks: one more field's postings rather than three.
 */
export function searchIndexBody(): { settings: Record<string, unknown>; mappings: Record<string, unknown> } {
  const configurations = Object.fromEntries(
    ENGINE_CONFIGURATIONS.map((configuration) => {
      const analyzer = ENGINE_ANALYZERS[configuration] ?? 'standard';
      const parts = Object.fromEntries(
        TEXT_PARTS.map((name) => [
          name,
          {
            type: 'text',
            analyzer,
            ...PART_INDEXING[name],
            copy_to: [MATCH_PART, ...(HEAD_PARTS.includes(name) ? [HEAD_PART] : [])].map((part) => `variants.${variantField(part, configuration)}`),
          },
        ]),
      );
      return [configuration, { properties: { ...parts, [MATCH_PART]: { type: 'text', analyzer }, [HEAD_PART]: { type: 'text', analyzer } } }];
    }),
  );
  return {
    settings: { number_of_shards: 1, number_of_replicas: 0, 'index.max_result_window': 10_000, ...SEARCH_INDEX_MERGE_POLICY, ...SEARCH_INDEX_STORE },
    mappings: {
      dynamic: 'strict',
      properties: {
        tenant_id: { type: 'keyword' },
        document_id: { type: 'keyword' },
        owner_id: { type: 'keyword' },
        status: { type: 'keyword' },
        type: { type: 'keyword' },
        sort_at: { type: 'date' },
        tag_ids: { type: 'keyword' },
        author_ids: { type: 'keyword' },
        variants: {
          type: 'nested',
          properties: {
            translation_id: { type: 'keyword' },
            language: { type: 'keyword' },
            ...configurations,
          },
        },
      },
    },
  };
}

/** A document's state as the indexer reads it from PostgreSQL. */
export interface IndexedDocumentRow {
  id: string;
  tenant_id: string;
  owner_id: string;
  status: string;
  type: string;
  sort_at: Date;
  tag_ids: string[];
  author_ids: string[];
  variants: { translation_id: string | null; language: string; configuration: string; title: string; tags: string; summary: string; body: string }[];
}

export function engineDocument(row: IndexedDocumentRow): Record<string, unknown> {
  return {
    tenant_id: row.tenant_id,
    document_id: row.id,
    owner_id: row.owner_id,
    status: row.status,
    type: row.type,
    sort_at: new Date(row.sort_at).toISOString(),
    tag_ids: row.tag_ids,
    author_ids: row.author_ids,
    variants: row.variants.map((variant) => {
      const configuration = engineConfiguration(variant.configuration);
      return {
        translation_id: variant.translation_id,
        language: variant.language,
        [configuration]: Object.fromEntries(TEXT_PARTS.map((name) => [name, variant[name]])),
      };
    }),
  };
}
