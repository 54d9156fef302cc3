import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A new version of the engine's index (a mapping change) is built beside the one behind the alias
 * while that one keeps serving: search_index_builds names the index being built, and while it has
 * a row every change to a document's search entries is queued for the build as well
 * (search_index_build_changes). The build's queue is a table of its own because replicas still on
 * the previous code drain search_index_changes and know nothing of a build.
 */
export class CreateSearchIndexBuilds1732500000011 implements MigrationInterface {
  name = 'CreateSearchIndexBuilds1732500000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE search_index_builds (
        engine_index text PRIMARY KEY,
        -- Every document is queued for the build once, after the row is committed (see the indexer).
        backfill_queued boolean NOT NULL DEFAULT false,
        started_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE search_index_build_changes (
        id bigserial PRIMARY KEY,
        document_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE OR REPLACE FUNCTION search_index_changes_from_new() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM search_index_state) THEN
          INSERT INTO search_index_changes (document_id, tenant_id) SELECT DISTINCT document_id, tenant_id FROM changed;
          IF EXISTS (SELECT 1 FROM search_index_builds) THEN
            INSERT INTO search_index_build_changes (document_id, tenant_id) SELECT DISTINCT document_id, tenant_id FROM changed;
          END IF;
        END IF;
        RETURN NULL;
      END $$;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION search_index_changes_from_new() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM search_index_state) THEN
          INSERT INTO search_index_changes (document_id, tenant_id) SELECT DISTINCT document_id, tenant_id FROM changed;
        END IF;
        RETURN NULL;
      END $$;
      DROP TABLE search_index_build_changes;
      DROP TABLE search_index_builds;
    `);
  }
}
