import { z } from 'zod';
import { realtimeEnv } from '@multipult/realtime';
import { defineSubgraphConfig } from '@multipult/subgraph';

export const contentConfigSchema = defineSubgraphConfig('content', {
  ...realtimeEnv,
  BODY_LIMIT: z.string().default('1mb'),
  /** Below this many full-text hits, search also tries trigram (typo-tolerant) matching. */
  SEARCH_FUZZY_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(3),
});

export type ContentConfig = z.infer<typeof contentConfigSchema>;
