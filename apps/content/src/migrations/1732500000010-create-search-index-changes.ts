import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The queue that keeps an external search engine's index current off the write path: every change
 * to a document's search entries (its original or a translation written, its status, tags or
 * authors changed, a delete, a reindex) queues the document id in the writing transaction, and
 * the indexer (search/engine) drains the queue, reading each document's current state, so no
 * write path is missed and none waits on the engine. Statement-level triggers with transition
 * tables keep bulk writes set-based. Changes queue only while an engine's index is attached
 * (search_index_state has a row, written by a service configured with one): a platform without
 * an engine queues nothing, and replicas without one never drain what others index.
 */
export class CreateSearchIndexChanges1732500000010 implements MigrationInterface {
  name = 'CreateSearchIndexChanges1732500000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE search_index_state (
        engine_index text PRIMARY KEY,
        attached_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE search_index_changes (
        id bigserial PRIMARY KEY,
        document_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE FUNCTION search_index_changes_from_new() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM search_index_state) THEN
          INSERT INTO search_index_changes (document_id, tenant_id) SELECT DISTINCT document_id, tenant_id FROM changed;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER search_index_changes_insert AFTER INSERT ON document_search_entries
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_index_changes_from_new();
      CREATE TRIGGER search_index_changes_update AFTER UPDATE ON document_search_entries
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_index_changes_from_new();
      CREATE TRIGGER search_index_changes_delete AFTER DELETE ON document_search_entries
        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_index_changes_from_new();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER search_index_changes_delete ON document_search_entries;
      DROP TRIGGER search_index_changes_update ON document_search_entries;
      DROP TRIGGER search_index_changes_insert ON document_search_entries;
      DROP FUNCTION search_index_changes_from_new();
      DROP TABLE search_index_changes;
      DROP TABLE search_index_state;
    `);
  }
}
