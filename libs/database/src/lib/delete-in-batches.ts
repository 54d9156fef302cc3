import { DataSource } from 'typeorm';
import { affectedRows } from './affected-rows';

/** Rows one DELETE removes, so a large backlog never holds long locks or one huge transaction. */
export const DELETE_BATCH_SIZE = 1_000;

/**
 * Deletes, in batches, a time-ordered table's rows that `where` selects. Each batch is its own
 * statement, so concurrent writers wait for one batch at most. Answers how many rows went.
 */
export async function deleteInBatches(dataSource: DataSource, table: string, where: string, parameters: unknown[]): Promise<number> {
  let deleted = 0;
  for (;;) {
    const count = await affectedRows(
      dataSource,
      `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${table} WHERE ${where} LIMIT ${DELETE_BATCH_SIZE}))`,
      parameters,
    );
    deleted += count;
    if (count < DELETE_BATCH_SIZE) return deleted;
  }
}
