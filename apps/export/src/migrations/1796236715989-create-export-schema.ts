import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports and their items (created_at in milliseconds, the keyset sort key), templates with
 * immutable versions, branding per tenant, and export schedules.
 */
export class CreateExportSchema1796236715989 implements MigrationInterface {
  name = 'CreateExportSchema1796236715989';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE export_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        latest_version int NOT NULL,
        created_by uuid NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT export_templates_tenant_name_key UNIQUE (tenant_id, name)
      );
      CREATE TABLE export_template_versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        template_id uuid NOT NULL REFERENCES export_templates(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        version int NOT NULL,
        title_page text NOT NULL,
        header text NOT NULL,
        footer text NOT NULL,
        styles jsonb NOT NULL,
        created_by uuid NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT export_template_versions_template_version_key UNIQUE (template_id, version)
      );
      CREATE TABLE export_branding (
        tenant_id uuid PRIMARY KEY,
        company_name text,
        primary_color text,
        accent_color text,
        logo bytea,
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE TABLE exports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        title text NOT NULL,
        format text NOT NULL CHECK (format IN ('pdf', 'zip', 'jira')),
        status text NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        progress int NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
        progress_message text NOT NULL DEFAULT '',
        selection jsonb NOT NULL,
        template_version_id uuid REFERENCES export_template_versions(id),
        watermark jsonb,
        recipient_watermark boolean NOT NULL DEFAULT false,
        jira_connection_id uuid,
        item_count int NOT NULL,
        done_count int NOT NULL DEFAULT 0,
        job_id text,
        schedule_id uuid,
        file_key text,
        file_name text,
        file_size bigint,
        file_sha256 text,
        expires_at timestamptz,
        file_deleted_at timestamptz,
        error_code text,
        attempts int NOT NULL DEFAULT 0,
        started_at timestamptz,
        finished_at timestamptz,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX exports_tenant_owner_created_idx ON exports (tenant_id, owner_id, created_at DESC, id DESC);
      CREATE INDEX exports_tenant_created_idx ON exports (tenant_id, created_at DESC, id DESC);
      CREATE INDEX exports_expiring_idx ON exports (expires_at) WHERE file_deleted_at IS NULL AND file_key IS NOT NULL;
      CREATE TABLE export_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        export_id uuid NOT NULL REFERENCES exports(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        position int NOT NULL,
        document_id uuid NOT NULL,
        title text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'DONE', 'SKIPPED', 'FAILED')),
        sha256 text,
        jira_issue_key text,
        error text,
        CONSTRAINT export_items_export_position_key UNIQUE (export_id, position)
      );
      CREATE INDEX export_items_export_document_idx ON export_items (export_id, document_id);
      CREATE TABLE export_schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        title text NOT NULL,
        cron text NOT NULL,
        time_zone text NOT NULL,
        format text NOT NULL CHECK (format IN ('pdf', 'zip', 'jira')),
        selection jsonb NOT NULL,
        template_id uuid REFERENCES export_templates(id) ON DELETE SET NULL,
        enabled boolean NOT NULL,
        next_run_at timestamptz,
        last_run_at timestamptz,
        last_export_id uuid,
        last_error text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      );
      CREATE INDEX export_schedules_due_idx ON export_schedules (next_run_at) WHERE enabled;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE export_schedules;
      DROP TABLE export_items;
      DROP TABLE exports;
      DROP TABLE export_branding;
      DROP TABLE export_template_versions;
      DROP TABLE export_templates;
    `);
  }
}
