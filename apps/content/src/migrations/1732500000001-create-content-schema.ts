import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Documents with their search index kept inside the write transaction: a generated, weighted
 * tsvector (title A, tags B, summary and body C) in the document's own text search configuration,
 * a GIN index for full-text search and a trigram index on titles for typos and suggestions.
 */
export class CreateContentSchema1732500000001 implements MigrationInterface {
  name = 'CreateContentSchema1732500000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
      CREATE TABLE authors (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        bio text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX authors_tenant_idx ON authors (tenant_id, created_at, id);
      CREATE TABLE tags (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        color text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX tags_tenant_name_idx ON tags (tenant_id, lower(name));
      CREATE TABLE documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        title text NOT NULL,
        summary text NOT NULL DEFAULT '',
        body text NOT NULL,
        type text NOT NULL,
        status text NOT NULL DEFAULT 'draft',
        language text NOT NULL,
        search_config regconfig NOT NULL,
        tag_names text NOT NULL DEFAULT '',
        version integer NOT NULL DEFAULT 1,
        view_count bigint NOT NULL DEFAULT 0,
        like_count bigint NOT NULL DEFAULT 0,
        published_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        search_vector tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector(search_config, title), 'A') ||
          setweight(to_tsvector(search_config, tag_names), 'B') ||
          setweight(to_tsvector(search_config, summary || ' ' || body), 'C')
        ) STORED
      );
      CREATE INDEX documents_search_idx ON documents USING gin (search_vector);
      CREATE INDEX documents_title_trgm_idx ON documents USING gin (title public.gin_trgm_ops);
      CREATE INDEX documents_tenant_created_idx ON documents (tenant_id, created_at DESC, id);
      CREATE INDEX documents_tenant_published_idx ON documents (tenant_id, status, published_at DESC);
      CREATE INDEX documents_owner_idx ON documents (owner_id);
      CREATE TABLE document_authors (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        author_id uuid NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
        position integer NOT NULL,
        PRIMARY KEY (document_id, author_id)
      );
      CREATE INDEX document_authors_author_idx ON document_authors (author_id);
      CREATE TABLE document_tags (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tag_id uuid NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (document_id, tag_id)
      );
      CREATE INDEX document_tags_tag_idx ON document_tags (tag_id);
      CREATE TABLE document_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        version integer NOT NULL,
        title text NOT NULL,
        summary text NOT NULL,
        body text NOT NULL,
        changed_by uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (document_id, version)
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE document_versions;
      DROP TABLE document_tags;
      DROP TABLE document_authors;
      DROP TABLE documents;
      DROP TABLE tags;
      DROP TABLE authors;
    `);
  }
}
