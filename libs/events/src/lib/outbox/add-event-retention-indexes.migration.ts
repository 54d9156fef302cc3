import { MigrationInterface, QueryRunner } from 'typeorm';
import { tableIn } from '../table-path';

/** Lets the retention job find old sent outbox rows and old inbox rows without scanning the tables. */
export class AddEventRetentionIndexes1764700000000 implements MigrationInterface {
  name = 'AddEventRetentionIndexes1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "outbox_published_at_idx" ON ${tableIn(queryRunner, 'outbox')} ("published_at") WHERE published_at IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "inbox_processed_at_idx" ON ${tableIn(queryRunner, 'inbox')} ("processed_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = (queryRunner.connection.options as { schema?: string }).schema;
    const prefix = schema ? `${queryRunner.connection.driver.escape(schema)}.` : '';
    await queryRunner.query(`DROP INDEX ${prefix}"inbox_processed_at_idx"`);
    await queryRunner.query(`DROP INDEX ${prefix}"outbox_published_at_idx"`);
  }
}
