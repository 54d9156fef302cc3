import { MigrationInterface, QueryRunner } from 'typeorm';

/** Likes, bookmarks and per-day view counts (the window trending reads). */
export class CreateEngagement1732500000002 implements MigrationInterface {
  name = 'CreateEngagement1732500000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE document_likes (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (document_id, user_id)
      );
      CREATE INDEX document_likes_recent_idx ON document_likes (created_at, document_id);
      CREATE TABLE document_bookmarks (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (document_id, user_id)
      );
      CREATE INDEX document_bookmarks_user_idx ON document_bookmarks (user_id, created_at DESC, document_id);
      CREATE TABLE document_view_days (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        day date NOT NULL,
        views integer NOT NULL,
        PRIMARY KEY (document_id, day)
      );
      CREATE INDEX document_view_days_day_idx ON document_view_days (day, document_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE document_view_days; DROP TABLE document_bookmarks; DROP TABLE document_likes;');
  }
}
