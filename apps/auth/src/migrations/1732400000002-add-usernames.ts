import { MigrationInterface, QueryRunner } from 'typeorm';

/** Public handles for @mentions; existing users get one derived from their email. */
export class AddUsernames1732400000002 implements MigrationInterface {
  name = 'AddUsernames1732400000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE users ADD COLUMN username text;
      UPDATE users SET username = left(regexp_replace(lower(split_part(email, '@', 1)), '[^a-z0-9_]', '_', 'g'), 20)
                                  || '_' || left(replace(id::text, '-', ''), 6);
      ALTER TABLE users ALTER COLUMN username SET NOT NULL;
      CREATE UNIQUE INDEX users_username_idx ON users (username);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX users_username_idx; ALTER TABLE users DROP COLUMN username;');
  }
}
