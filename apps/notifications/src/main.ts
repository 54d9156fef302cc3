import { bootstrapSubgraph } from '@multipult/subgraph/bootstrap';

/**
 * Runs the notifications subgraph when this file is the entry point (node, or a worker thread of the embedded
 * launcher); the app loads only after tracing started (see bootstrapSubgraph).
 */
export const start = bootstrapSubgraph(module, 'notifications', async () => ({
  configSchema: (await import('./config.js')).notificationsConfigSchema,
  AppModule: (await import('./app.module.js')).AppModule,
}));
