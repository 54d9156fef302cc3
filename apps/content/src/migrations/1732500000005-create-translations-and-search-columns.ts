import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Translations, each with its own generated tsvector in its language's configuration, and search
 * columns that keep a query to one pass over the matches:
 * - `tag_ids` / `author_ids` arrays on documents (written with the link tables in the same
 *   transaction) so filters and facets read the matched rows instead of joining link tables;
 * - `search_vector` stored inline (STORAGE MAIN, compressed in the heap row) so ranking a match
 *   does not read its vector back from TOAST.
 */
export class CreateTranslationsAndSearchColumns1732500000005 implements MigrationInterface {
  name = 'CreateTranslationsAndSearchColumns1732500000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE documents
        ADD COLUMN tag_ids uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN author_ids uuid[] NOT NULL DEFAULT '{}';
      ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE MAIN;
      UPDATE documents d SET
        tag_ids = coalesce((SELECT array_agg(tag_id ORDER BY tag_id) FROM document_tags WHERE document_id = d.id), '{}'),
        author_ids = coalesce((SELECT array_agg(author_id ORDER BY position) FROM document_authors WHERE document_id = d.id), '{}');
      CREATE TABLE document_translations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        language text NOT NULL,
        search_config regconfig NOT NULL,
        translator_id uuid REFERENCES authors(id) ON DELETE SET NULL,
        title text NOT NULL,
        summary text NOT NULL DEFAULT '',
        body text NOT NULL,
        created_by uuid NOT NULL,
        updated_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector(search_config, title), 'A') ||
          setweight(to_tsvector(search_config, summary || ' ' || body), 'C')
        ) STORED,
        UNIQUE (document_id, language)
      );
      ALTER TABLE document_translations ALTER COLUMN search_vector SET STORAGE MAIN;
      CREATE INDEX document_translations_search_idx ON document_translations USING gin (search_vector);
      CREATE INDEX document_translations_title_trgm_idx ON document_translations USING gin (title public.gin_trgm_ops);
      CREATE INDEX document_translations_tenant_idx ON document_translations (tenant_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE document_translations;
      ALTER TABLE documents ALTER COLUMN search_vector SET STORAGE EXTENDED;
      ALTER TABLE documents DROP COLUMN tag_ids, DROP COLUMN author_ids;
    `);
  }
}
