import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateComments1732500000003 implements MigrationInterface {
  name = 'CreateComments1732500000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE comments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        parent_id uuid REFERENCES comments(id) ON DELETE CASCADE,
        depth smallint NOT NULL CHECK (depth BETWEEN 0 AND 2),
        author_id uuid NOT NULL,
        body_markdown text NOT NULL,
        body_html text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        edited_at timestamptz,
        deleted_at timestamptz
      );
      CREATE INDEX comments_document_idx ON comments (document_id, created_at, id) WHERE parent_id IS NULL;
      CREATE INDEX comments_parent_idx ON comments (parent_id, created_at, id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE comments;');
  }
}
