import { MigrationInterface, QueryRunner } from 'typeorm';

/** Lets the retention job find old finished email and webhook deliveries without scanning the tables. */
export class AddDeliveryRetentionIndexes1733000000004 implements MigrationInterface {
  name = 'AddDeliveryRetentionIndexes1733000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE INDEX email_deliveries_finished_idx ON email_deliveries ((coalesce(sent_at, created_at)))
        WHERE status IN ('sent', 'failed', 'digested');
      CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries ((coalesce(completed_at, created_at)))
        WHERE status IN ('succeeded', 'failed');
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX webhook_deliveries_finished_idx;
      DROP INDEX email_deliveries_finished_idx;
    `);
  }
}
