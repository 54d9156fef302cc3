import { Logger } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { loadConfig } from '@multipult/config';
import { DatabaseConfig, runDatabaseMigrations } from '@multipult/database';
import type { ServiceEnv } from '@multipult/graphql/bootstrap';
import type { SubgraphConfigSchemaLike, SubgraphDefinition } from '../bootstrap';
import { subgraphDatabaseOf } from './subgraph.module';

/** `node main.js migrate`: the subgraph's pending migrations applied once, then the process ends. */
export async function migrateSubgraph<S extends SubgraphConfigSchemaLike>(
  service: string,
  definition: SubgraphDefinition<S>,
  env: ServiceEnv,
): Promise<string[]> {
  const config = loadConfig(definition.configSchema, env) as unknown as DatabaseConfig;
  const database = subgraphDatabaseOf(definition.AppModule.forRoot(config as never) as DynamicModule);
  if (!database) throw new Error(`${service} is not built on SubgraphModule: nothing to migrate`);
  const applied = await runDatabaseMigrations(config, database);
  new Logger('Migrations').log(
    applied.length ? `${service}: applied ${applied.length} migration(s): ${applied.join(', ')}` : `${service}: schema ${database.schema} is current`,
  );
  return applied;
}
