import { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts at OpenID providers linked to users: one user per (provider, subject). */
export class CreateUserIdentities1732400000010 implements MigrationInterface {
  name = 'CreateUserIdentities1732400000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_identities (
        provider text NOT NULL,
        subject text NOT NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        email text,
        linked_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        PRIMARY KEY (provider, subject)
      );
      CREATE INDEX user_identities_user_idx ON user_identities (user_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE user_identities');
  }
}
