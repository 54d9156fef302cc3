import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ConfigError, ConfigModule, baseEnv, databaseEnv, loadConfig, requireSocketTimeoutAboveStatementTimeout } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { eventEntities } from '@multipult/events';
import { detachSearchEngine } from './search/engine/search-engine';
import { reindexDocuments } from './search/reindex';

const USAGE = 'usage: node cli.js reindex | search-engine-detach';


/**
 * Operator commands against the content database:
 *   node dist/apps/content/apps/content/src/cli.js reindex
 *   node dist/apps/content/apps/content/src/cli.js search-engine-detach
 *     (stops queueing changes for the search engine's index and drops the queue: before removing
 *     SEARCH_ENGINE_URL for good, or before attaching another index)
 */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'reindex' && command !== 'search-engine-detach') throw new Error(USAGE);
  const config = loadConfig(z.object({ ...baseEnv, ...databaseEnv }).superRefine(requireSocketTimeoutAboveStatementTimeout));

  @Module({
    imports: [
      ConfigModule.forRoot({ ...config, DATABASE_MIGRATIONS_RUN: false }),
      DatabaseModule.forRoot({ service: 'content-cli', schema: 'content', entities: eventEntities, migrations: [] }),
    ],
  })
  class CliModule {}

  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    const dataSource = context.get<DataSource>(getDataSourceToken());
    if (command === 'reindex') {
      const report = await reindexDocuments(dataSource);
      process.stdout.write(`${JSON.stringify({ reindexed: true, ...report })}\n`);
    } else {
      process.stdout.write(`${JSON.stringify({ detached: await detachSearchEngine(dataSource) })}\n`);
    }
  } finally {
    await context.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`content cli: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
