import type { Db } from 'pg-boss';
import type { EntityManager } from 'typeorm';

/**
 * pg-boss statements run on the connection of a TypeORM transaction, so a job is enqueued (or
 * cancelled) together with the business write and a rollback leaves no job behind.
 */
export function entityManagerDb(manager: EntityManager): Db {
  const queryRunner = manager.queryRunner;
  if (!queryRunner?.isTransactionActive) {
    throw new Error('tx must be the EntityManager of an open transaction (dataSource.transaction(manager => ...))');
  }
  return {
    // The structured result, because TypeORM's plain one turns UPDATE/DELETE results into [rows, count].
    executeSql: async (text, values) => ({ rows: (await queryRunner.query(text, values, true)).records as unknown[] }),
  };
}
