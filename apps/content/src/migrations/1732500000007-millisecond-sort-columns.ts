import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset cursors carry milliseconds (JavaScript dates). A microsecond column let a cursor fall
 * inside its own row's millisecond, so the next page repeated that row (ascending) or skipped its
 * neighbours of the same millisecond (descending); columns that pages sort on now hold milliseconds.
 */
export class MillisecondSortColumns1732500000007 implements MigrationInterface {
  name = 'MillisecondSortColumns1732500000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE authors ALTER COLUMN created_at TYPE timestamptz(3);
      ALTER TABLE documents ALTER COLUMN created_at TYPE timestamptz(3);
      ALTER TABLE document_bookmarks ALTER COLUMN created_at TYPE timestamptz(3);
      ALTER TABLE collections ALTER COLUMN created_at TYPE timestamptz(3);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE authors ALTER COLUMN created_at TYPE timestamptz;
      ALTER TABLE documents ALTER COLUMN created_at TYPE timestamptz;
      ALTER TABLE document_bookmarks ALTER COLUMN created_at TYPE timestamptz;
      ALTER TABLE collections ALTER COLUMN created_at TYPE timestamptz;
    `);
  }
}
