import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * JIRA connections of a tenant (names unique per tenant; API token and webhook secret sealed) and
 * the issues exports created through them, one per export item and connection, whose status the
 * JIRA webhook keeps up to date.
 */
export class CreateJiraTables1796300000000 implements MigrationInterface {
  name = 'CreateJiraTables1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE jira_connections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        base_url text NOT NULL,
        account_email text NOT NULL,
        sealed_api_token text NOT NULL,
        project_key text NOT NULL,
        issue_type_name text NOT NULL,
        sub_task_type_name text NOT NULL,
        labels text[] NOT NULL DEFAULT '{}',
        custom_fields jsonb NOT NULL DEFAULT '{}',
        export_comments boolean NOT NULL DEFAULT false,
        sealed_webhook_secret text NOT NULL,
        last_success_at timestamptz,
        last_error text,
        last_error_at timestamptz,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT jira_connections_tenant_name_key UNIQUE (tenant_id, name)
      );
      CREATE TABLE jira_issue_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        connection_id uuid NOT NULL REFERENCES jira_connections (id) ON DELETE CASCADE,
        export_item_id uuid NOT NULL,
        document_id uuid NOT NULL,
        issue_key text NOT NULL,
        issue_id text NOT NULL,
        status text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT jira_issue_links_item_key UNIQUE (connection_id, export_item_id)
      );
      CREATE INDEX jira_issue_links_issue_idx ON jira_issue_links (connection_id, issue_key);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE jira_issue_links;
      DROP TABLE jira_connections;
    `);
  }
}
