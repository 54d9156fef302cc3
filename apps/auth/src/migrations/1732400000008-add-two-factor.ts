import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TOTP two-factor sign-in: the secret sealed with AES-256-GCM (pending until confirmed), the last
 * accepted time step (a code is never accepted twice), and ten single-use backup codes as SHA-256.
 */
export class AddTwoFactor1732400000008 implements MigrationInterface {
  name = 'AddTwoFactor1732400000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE users
        ADD COLUMN totp_secret_sealed text,
        ADD COLUMN totp_pending_secret_sealed text,
        ADD COLUMN totp_enabled_at timestamptz,
        ADD COLUMN totp_last_time_step bigint;
      CREATE TABLE backup_codes (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash text NOT NULL,
        used_at timestamptz,
        PRIMARY KEY (user_id, code_hash)
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE backup_codes;
      ALTER TABLE users DROP COLUMN totp_secret_sealed, DROP COLUMN totp_pending_secret_sealed,
        DROP COLUMN totp_enabled_at, DROP COLUMN totp_last_time_step;
    `);
  }
}
