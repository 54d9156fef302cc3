import { z } from 'zod';
import { realtimeEnv } from '@multipult/realtime';
import { defineSubgraphConfig } from '@multipult/subgraph';

export const contentConfigSchema = defineSubgraphConfig('content', {
  ...realtimeEnv,
  /** Below this many full-text hits, search also tries trigram (typo-tolerant) matching. */
  SEARCH_FUZZY_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(3),
  /**
   * Matches a search counts, facets and orders by relevance at most (like Elasticsearch's
   * track_total_hits and max_result_window): beyond it `totalCount` is a lower bound (GTE).
   */
  SEARCH_TOTAL_HITS_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Best first-pass candidates ranked by the full ts_rank_cd: relevance order is exact within them. */
  SEARCH_RESCORE_WINDOW: z.coerce.number().int().min(1).max(10_000).default(100),
  /**
   * An OpenSearch (or Elasticsearch-compatible) endpoint: when set, full-text search by relevance or
   * date is served from its index, which the indexer keeps current off the write path (near real
   * time, as in the big engines); unset, PostgreSQL serves every search.
   */
  SEARCH_ENGINE_URL: z.preprocess((value) => (value === '' ? undefined : value), z.url({ protocol: /^https?$/ }).optional()),
  /** The engine's index (an alias over versioned indexes), so several platforms can share one cluster. */
  SEARCH_ENGINE_INDEX: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('multipult-content-documents'),
  /** Queued document changes the indexer sends to the engine per bulk request. */
  SEARCH_ENGINE_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  /** How often an idle indexer looks for queued changes: a write is searchable within about this long. */
  SEARCH_ENGINE_POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
});

export type ContentConfig = z.infer<typeof contentConfigSchema>;
