import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keyset cursors carry milliseconds (JavaScript dates). With a microsecond `created_at`, a cursor fell
 * before its own row's instant, so the next page of the newest-first delivery log skipped the rows
 * of that millisecond; the column the log pages on now holds milliseconds, like the other services'.
 */
export class MillisecondDeliverySortColumn1733000000003 implements MigrationInterface {
  name = 'MillisecondDeliverySortColumn1733000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_deliveries ALTER COLUMN created_at TYPE timestamptz(3)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE webhook_deliveries ALTER COLUMN created_at TYPE timestamptz`);
  }
}
