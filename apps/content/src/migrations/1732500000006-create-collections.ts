import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Collections: ordered lists of a tenant's documents. Positions are dense from 0 and unique per
 * collection; the constraint is deferred so a reorder can rewrite every position in one statement.
 * Deleting a document drops it from every collection (positions stay ordered; the next write renumbers).
 */
export class CreateCollections1732500000006 implements MigrationInterface {
  name = 'CreateCollections1732500000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE collections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX collections_tenant_idx ON collections (tenant_id, created_at DESC, id);
      CREATE TABLE collection_items (
        collection_id uuid NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        position integer NOT NULL,
        added_by uuid NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (collection_id, document_id),
        CONSTRAINT collection_items_position_key UNIQUE (collection_id, position) DEFERRABLE INITIALLY DEFERRED
      );
      CREATE INDEX collection_items_document_idx ON collection_items (document_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE collection_items;
      DROP TABLE collections;
    `);
  }
}
