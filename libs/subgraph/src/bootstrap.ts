import type { DynamicModule } from '@nestjs/common';
import type { z } from 'zod';
import { ServiceConfigSchema, ServiceStart, bootstrapService } from '@multipult/graphql/bootstrap';

// Light on purpose, like @multipult/graphql/bootstrap: a subgraph's main.ts imports only this.

export type SubgraphConfigSchemaLike = ServiceConfigSchema & z.ZodType<{ BODY_LIMIT: string; GRAPHQL_FAST_PATH: boolean }>;

/** What a subgraph's main.ts loads once tracing runs: its config schema and its AppModule. */
export interface SubgraphDefinition<S extends SubgraphConfigSchemaLike> {
  configSchema: S;
  AppModule: { forRoot(config: z.output<S>): DynamicModule };
}

/**
 * A subgraph's whole main.ts: `export const start = bootstrapSubgraph(module, 'auth', load)`.
 * Tracing first, then config, the app (body limit, request context, trust proxy, validation,
 * shutdown hooks: see createServiceApp), listen on PORT/HOST; run at once when the file is the entry.
 * `node main.js migrate` applies the service's migrations and exits instead (the Helm migration Job).
 */
export function bootstrapSubgraph<S extends SubgraphConfigSchemaLike>(
  main: NodeModule,
  service: string,
  load: () => Promise<SubgraphDefinition<S>>,
): ServiceStart {
  return bootstrapService(
    main,
    service,
    async () => {
      const { configSchema, AppModule } = await load();
      return {
        configSchema,
        appModule: (config) => AppModule.forRoot(config),
        appOptions: (config) => ({ bodyLimit: config.BODY_LIMIT, graphqlFastPath: config.GRAPHQL_FAST_PATH }),
        title: `${service} subgraph`,
      };
    },
    {
      migrate: async (env = process.env) => {
        const [definition, { migrateSubgraph }] = await Promise.all([load(), import('./lib/migrate.js')]);
        await migrateSubgraph(service, definition, env);
      },
    },
  );
}
