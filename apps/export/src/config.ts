import { z } from 'zod';
import { defineSubgraphConfig } from '@multipult/subgraph';

/** The kit's variables (database, Redis, Kafka, token verification, PORT 4004) and the service's own. */
export const exportConfigSchema = defineSubgraphConfig('export', {});

export type ExportConfig = z.infer<typeof exportConfigSchema>;
