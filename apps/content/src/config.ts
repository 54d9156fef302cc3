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
});

export type ContentConfig = z.infer<typeof contentConfigSchema>;
