import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verified email addresses, and the one-time tokens emails carry (verification, password reset):
 * only their SHA-256 is stored, with the address they were sent to, an expiry and a use mark.
 */
export class AddEmailVerificationAndPasswordReset1732400000003 implements MigrationInterface {
  name = 'AddEmailVerificationAndPasswordReset1732400000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
      CREATE TABLE one_time_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
        token_hash text NOT NULL UNIQUE,
        email text NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose) WHERE used_at IS NULL;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE one_time_tokens;
      ALTER TABLE users DROP COLUMN email_verified_at;
    `);
  }
}
