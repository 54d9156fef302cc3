import { MigrationInterface, QueryRunner } from 'typeorm';
import { tableIn } from '../table-path';

/** Creates `outbox` and `inbox` in the schema of the DataSource running it (each service adds it to its migrations). */
export class CreateEventTables1732400000000 implements MigrationInterface {
  name = 'CreateEventTables1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const outbox = tableIn(queryRunner, 'outbox');
    const inbox = tableIn(queryRunner, 'inbox');
    await queryRunner.query(`
      CREATE TABLE ${outbox} (
        "id" uuid PRIMARY KEY,
        "sequence_number" bigserial NOT NULL,
        "topic" text NOT NULL,
        "message_key" text NOT NULL,
        "event_type" text NOT NULL,
        "envelope" jsonb NOT NULL,
        "headers" jsonb NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "published_at" timestamptz,
        "attempts" integer NOT NULL DEFAULT 0,
        "last_error" text
      )`);
    // Only pending rows are ever scanned, and they are few however large the table grows. The
    // second index serves the relay's "no earlier pending event for this key" ordering check.
    await queryRunner.query(
      `CREATE INDEX "outbox_pending_created_at_idx" ON ${outbox} ("created_at") WHERE published_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "outbox_pending_key_idx" ON ${outbox} ("message_key", "sequence_number") WHERE published_at IS NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE ${inbox} (
        "consumer_group" text NOT NULL,
        "event_id" uuid NOT NULL,
        "processed_at" timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY ("consumer_group", "event_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${tableIn(queryRunner, 'inbox')}`);
    await queryRunner.query(`DROP TABLE ${tableIn(queryRunner, 'outbox')}`);
  }
}
