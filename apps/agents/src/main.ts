import { bootstrapSubgraph } from '@multipult/subgraph/bootstrap';

/**
 * Runs the agents subgraph when this file is the entry point (node, or a worker thread of the embedded
 * launcher); the app loads only after tracing started (see bootstrapSubgraph).
 */
export const start = bootstrapSubgraph(module, 'agents', async () => ({
  configSchema: (await import('./config.js')).agentsConfigSchema,
  AppModule: (await import('./app.module.js')).AppModule,
}));
