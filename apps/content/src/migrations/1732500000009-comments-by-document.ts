import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every comment of a document (replies too) by creation time: a live comment stream re-reads the
 * recent ones after a gap on the pub/sub bus, which the top-level-only index cannot answer.
 */
export class CommentsByDocument1732500000009 implements MigrationInterface {
  name = 'CommentsByDocument1732500000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE INDEX comments_document_created_idx ON comments (document_id, created_at)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX comments_document_created_idx');
  }
}
