import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The GDPR sagas' state: account erasures (kept after the user row is gone, as the record that
 * it happened and who confirmed) and data exports with the parts participants sent.
 */
export class CreatePrivacySagas1732400000007 implements MigrationInterface {
  name = 'CreatePrivacySagas1732400000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE users ADD COLUMN erasure_requested_at timestamptz;
      CREATE TABLE account_erasures (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL,
        requested_by uuid,
        reason text NOT NULL CHECK (reason IN ('self', 'admin')),
        participants text[] NOT NULL,
        confirmations jsonb NOT NULL DEFAULT '{}',
        status text NOT NULL CHECK (status IN ('pending', 'overdue', 'completed')),
        requested_at timestamptz NOT NULL DEFAULT now(),
        deadline_at timestamptz NOT NULL,
        completed_at timestamptz
      );
      CREATE UNIQUE INDEX account_erasures_open_key ON account_erasures (user_id) WHERE status <> 'completed';
      CREATE INDEX account_erasures_deadline_idx ON account_erasures (deadline_at) WHERE status = 'pending';
      CREATE TABLE data_exports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        participants text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'ready', 'partial')),
        missing_services text[] NOT NULL DEFAULT '{}',
        document jsonb,
        requested_at timestamptz NOT NULL DEFAULT now(),
        deadline_at timestamptz NOT NULL,
        completed_at timestamptz
      );
      CREATE INDEX data_exports_user_idx ON data_exports (user_id, requested_at DESC);
      CREATE INDEX data_exports_deadline_idx ON data_exports (deadline_at) WHERE status = 'pending';
      CREATE TABLE data_export_parts (
        export_id uuid NOT NULL REFERENCES data_exports(id) ON DELETE CASCADE,
        service text NOT NULL,
        chunk integer NOT NULL,
        chunk_count integer NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (export_id, service, chunk)
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE data_export_parts;
      DROP TABLE data_exports;
      DROP TABLE account_erasures;
      ALTER TABLE users DROP COLUMN erasure_requested_at;
    `);
  }
}
