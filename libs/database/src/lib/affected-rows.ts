import type { EntityManager } from 'typeorm';

/**
 * How many rows an UPDATE or DELETE changed. TypeORM's `query` answers these two statements with
 * `[rows, affected count]` and every other one with its rows, so an UPDATE's or DELETE's answer
 * read as rows has a length of 2, whatever the statement did.
 */
export async function affectedRows(runner: Pick<EntityManager, 'query'>, sql: string, parameters?: unknown[]): Promise<number> {
  const [, affected]: [unknown[], number] = await runner.query(sql, parameters);
  return affected;
}
