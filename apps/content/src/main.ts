import { bootstrapSubgraph } from '@multipult/subgraph/bootstrap';

/**
 * Runs the content subgraph when this file is the entry point (node, or a worker thread of the embedded
 * launcher); the app loads only after tracing started (see bootstrapSubgraph).
 */
export const start = bootstrapSubgraph(module, 'content', async () => ({
  configSchema: (await import('./config.js')).contentConfigSchema,
  AppModule: (await import('./app.module.js')).AppModule,
}));
