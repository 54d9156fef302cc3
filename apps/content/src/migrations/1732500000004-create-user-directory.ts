import { MigrationInterface, QueryRunner } from 'typeorm';

/** Usernames of the platform's users, kept from auth's user.registered events (for @mentions). */
export class CreateUserDirectory1732500000004 implements MigrationInterface {
  name = 'CreateUserDirectory1732500000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_directory (
        user_id uuid PRIMARY KEY,
        username text NOT NULL UNIQUE,
        display_name text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE user_directory;');
  }
}
