import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { ConfigError, ConfigModule, baseEnv, databaseEnv, loadConfig } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { eventEntities } from '@multipult/events';
import { reindexDocuments } from './search/reindex';

const USAGE = 'usage: node cli.js reindex';


/**
 * Operator commands against the content database:
 *   node dist/apps/content/apps/content/src/cli.js reindex
 */
async function main(command: string | undefined): Promise<void> {
  if (command !== 'reindex') throw new Error(USAGE);
  const config = loadConfig(z.object({ ...baseEnv, ...databaseEnv }));

  @Module({
    imports: [
      ConfigModule.forRoot({ ...config, DATABASE_MIGRATIONS_RUN: false }),
      DatabaseModule.forRoot({ service: 'content-cli', schema: 'content', entities: eventEntities, migrations: [] }),
    ],
  })
  class CliModule {}

  const context = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
  try {
    const report = await reindexDocuments(context.get<DataSource>(getDataSourceToken()));
    process.stdout.write(`${JSON.stringify({ reindexed: true, ...report })}\n`);
  } finally {
    await context.close();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`content cli: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(1);
});
