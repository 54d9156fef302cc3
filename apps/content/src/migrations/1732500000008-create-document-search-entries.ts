import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A narrow search table, one row per searchable text (a document's original or one of its
 * translations), so that a query's work is bounded by its matches' narrow rows instead of wide
 * document rows:
 * - what visibility and filters read (tenant, owner, status, type, language, date, tag and author
 *   ids) sits inline in a few hundred bytes; the full tsvector moves out of line (TOAST) and is read
 *   only to rank the few hundred best candidates;
 * - `filter_keys` (tenant, status, owner, language, type as `x:value` strings) shares one GIN index
 *   with the tsvector, so tenant, visibility and language/type filters are applied inside the index
 *   instead of fetching rows to discard them;
 * - `head_vector` (title A, tag names B, summary C) is small and inline: the cheap first-pass rank.
 *
 * Triggers keep it in the writing transaction: inserts per statement from the inserted rows
 * themselves (bulk loads stay set-based and never scan the source tables),
 * updates per row and only when a searched or filtered column changed (view and like counters
 * do not touch it), deletes by foreign-key cascade. `reindex` rebuilds it from the view below.
 */
export class CreateDocumentSearchEntries1732500000008 implements MigrationInterface {
  name = 'CreateDocumentSearchEntries1732500000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION document_search_head_vector(config regconfig, title text, tag_names text, summary text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN setweight(to_tsvector(config, title), 'A') || setweight(to_tsvector(config, tag_names), 'B') ||
               setweight(to_tsvector(config, summary), 'C');
      CREATE VIEW document_search_sources AS
        SELECT d.id AS document_id, NULL::uuid AS translation_id, d.tenant_id, d.owner_id, d.status, d.type, d.language,
               coalesce(d.published_at, d.created_at) AS sort_at, d.tag_ids, d.author_ids,
               document_search_head_vector(d.search_config, d.title, d.tag_names, d.summary) AS head_vector,
               d.search_vector
        FROM documents d
        UNION ALL
        -- A translation is searched only within its document's tenant, as the search query always required.
        SELECT d.id, t.id, d.tenant_id, d.owner_id, d.status, d.type, t.language,
               coalesce(d.published_at, d.created_at), d.tag_ids, d.author_ids,
               document_search_head_vector(t.search_config, t.title, '', t.summary),
               t.search_vector
        FROM document_translations t JOIN documents d ON d.id = t.document_id AND d.tenant_id = t.tenant_id;

      CREATE TABLE document_search_entries (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        translation_id uuid REFERENCES document_translations(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        status text NOT NULL,
        type text NOT NULL,
        language text NOT NULL,
        sort_at timestamptz NOT NULL,
        tag_ids uuid[] NOT NULL,
        author_ids uuid[] NOT NULL,
        head_vector tsvector NOT NULL,
        search_vector tsvector NOT NULL,
        filter_keys text[] GENERATED ALWAYS AS (
          ARRAY['n:' || tenant_id::text, 's:' || status, 'o:' || owner_id::text, 'l:' || language, 't:' || type]
        ) STORED
      ) WITH (toast_tuple_target = 128);
      -- The full vector out of line even when small, everything else inline (a low toast_tuple_target
      -- would otherwise move tag and author arrays out too): the row stays narrow and self-contained
      -- for counting, filtering and faceting.
      ALTER TABLE document_search_entries
        ALTER COLUMN search_vector SET STORAGE EXTERNAL,
        ALTER COLUMN head_vector SET STORAGE MAIN,
        ALTER COLUMN tag_ids SET STORAGE MAIN,
        ALTER COLUMN author_ids SET STORAGE MAIN,
        ALTER COLUMN filter_keys SET STORAGE MAIN;
      CREATE UNIQUE INDEX document_search_entries_original_idx ON document_search_entries (document_id) WHERE translation_id IS NULL;
      CREATE UNIQUE INDEX document_search_entries_translation_idx ON document_search_entries (translation_id);
      CREATE INDEX document_search_entries_document_idx ON document_search_entries (document_id);
      CREATE INDEX document_search_entries_match_idx ON document_search_entries USING gin (search_vector, filter_keys);

      -- Triggers run in the writer's session: the functions keep the schema they were created in.
      CREATE FUNCTION document_search_entries_insert_documents() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO document_search_entries
          (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
        SELECT d.id, NULL, d.tenant_id, d.owner_id, d.status, d.type, d.language, coalesce(d.published_at, d.created_at), d.tag_ids, d.author_ids,
               document_search_head_vector(d.search_config, d.title, d.tag_names, d.summary), d.search_vector
        FROM inserted d;
        RETURN NULL;
      END $$;
      CREATE FUNCTION document_search_entries_insert_translations() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        INSERT INTO document_search_entries
          (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
        SELECT d.id, t.id, d.tenant_id, d.owner_id, d.status, d.type, t.language, coalesce(d.published_at, d.created_at), d.tag_ids, d.author_ids,
               document_search_head_vector(t.search_config, t.title, '', t.summary), t.search_vector
        FROM inserted t JOIN documents d ON d.id = t.document_id AND d.tenant_id = t.tenant_id;
        RETURN NULL;
      END $$;
      -- A document's change reaches its translations' rows too (they carry its status, type, tags...).
      CREATE FUNCTION document_search_entries_update_document() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM document_search_entries WHERE document_id = NEW.id;
        INSERT INTO document_search_entries
          (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
        SELECT * FROM document_search_sources WHERE document_id = NEW.id;
        RETURN NULL;
      END $$;
      CREATE FUNCTION document_search_entries_update_translation() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
      BEGIN
        DELETE FROM document_search_entries WHERE translation_id = NEW.id;
        INSERT INTO document_search_entries
          (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
        SELECT * FROM document_search_sources WHERE translation_id = NEW.id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER document_search_entries_insert AFTER INSERT ON documents
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION document_search_entries_insert_documents();
      CREATE TRIGGER document_search_entries_insert AFTER INSERT ON document_translations
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION document_search_entries_insert_translations();
      CREATE TRIGGER document_search_entries_update AFTER UPDATE ON documents FOR EACH ROW
        WHEN ((OLD.id, OLD.tenant_id, OLD.owner_id, OLD.status, OLD.type, OLD.language, OLD.search_config, OLD.title, OLD.summary,
               OLD.tag_names, OLD.tag_ids, OLD.author_ids, OLD.published_at, OLD.created_at, OLD.search_vector)
              IS DISTINCT FROM
              (NEW.id, NEW.tenant_id, NEW.owner_id, NEW.status, NEW.type, NEW.language, NEW.search_config, NEW.title, NEW.summary,
               NEW.tag_names, NEW.tag_ids, NEW.author_ids, NEW.published_at, NEW.created_at, NEW.search_vector))
        EXECUTE FUNCTION document_search_entries_update_document();
      CREATE TRIGGER document_search_entries_update AFTER UPDATE ON document_translations FOR EACH ROW
        WHEN ((OLD.id, OLD.tenant_id, OLD.document_id, OLD.language, OLD.search_config, OLD.title, OLD.summary, OLD.search_vector)
              IS DISTINCT FROM
              (NEW.id, NEW.tenant_id, NEW.document_id, NEW.language, NEW.search_config, NEW.title, NEW.summary, NEW.search_vector))
        EXECUTE FUNCTION document_search_entries_update_translation();

      INSERT INTO document_search_entries
        (document_id, translation_id, tenant_id, owner_id, status, type, language, sort_at, tag_ids, author_ids, head_vector, search_vector)
      SELECT * FROM document_search_sources;
      ANALYZE document_search_entries;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER document_search_entries_update ON document_translations;
      DROP TRIGGER document_search_entries_update ON documents;
      DROP TRIGGER document_search_entries_insert ON document_translations;
      DROP TRIGGER document_search_entries_insert ON documents;
      DROP FUNCTION document_search_entries_update_translation();
      DROP FUNCTION document_search_entries_update_document();
      DROP FUNCTION document_search_entries_insert_translations();
      DROP FUNCTION document_search_entries_insert_documents();
      DROP TABLE document_search_entries;
      DROP VIEW document_search_sources;
      DROP FUNCTION document_search_head_vector(regconfig, text, text, text);
    `);
  }
}
