import { z } from 'zod';
import {
  baseEnv,
  databaseEnv,
  kafkaEnv,
  redisEnv,
  requireSharedInfrastructureInProduction,
  tokenVerificationEnv,
} from '@multipult/config';
import { realtimeEnv } from '@multipult/realtime';

export const contentConfigSchema = z
  .object({
    ...baseEnv,
    ...databaseEnv,
    ...redisEnv,
    ...kafkaEnv,
    ...tokenVerificationEnv,
    ...realtimeEnv,
    PORT: z.coerce.number().int().min(1).max(65535).default(4002),
    BODY_LIMIT: z.string().default('1mb'),
    /** Below this many full-text hits, search also tries trigram (typo-tolerant) matching. */
    SEARCH_FUZZY_THRESHOLD: z.coerce.number().int().min(0).max(1000).default(3),
  })
  .superRefine(requireSharedInfrastructureInProduction);

export type ContentConfig = z.infer<typeof contentConfigSchema>;
