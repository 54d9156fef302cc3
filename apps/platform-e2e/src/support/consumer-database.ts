import { DataSource } from 'typeorm';
import { eventEntities, eventMigrations } from '@multipult/events';
import { createTestDatabase } from '@multipult/testing';

/** The database of a downstream consumer: a fresh database with the inbox (and outbox) tables. */
export async function openConsumerDatabase(prefix: string): Promise<{ dataSource: DataSource; close(): Promise<void> }> {
  const database = await createTestDatabase(prefix);
  const dataSource = await new DataSource({
    type: 'postgres',
    url: database.url,
    entities: eventEntities,
    migrations: eventMigrations,
    migrationsRun: true,
  }).initialize();
  return {
    dataSource,
    close: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
