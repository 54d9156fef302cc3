import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Platform roles (operators of the whole installation, above tenants), bans, activity, the audit
 * log, and millisecond sort columns for keyset pagination.
 * The audit log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, so not even the
 * service's own credentials can rewrite history.
 */
export class AddPlatformRolesBansAndAuditLog1732400000005 implements MigrationInterface {
  name = 'AddPlatformRolesBansAndAuditLog1732400000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE user_platform_roles (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, role)
      );
      CREATE INDEX user_platform_roles_role_idx ON user_platform_roles (role);
      ALTER TABLE users
        ADD COLUMN banned_at timestamptz,
        ADD COLUMN ban_reason text,
        ADD COLUMN last_active_at timestamptz;
      -- Keyset cursors carry milliseconds (JavaScript dates); sort columns hold exactly that, so a
      -- cursor names its row and no row of the same millisecond is skipped or repeated.
      ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz(3);
      ALTER TABLE memberships ALTER COLUMN created_at TYPE timestamptz(3);
      CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_id uuid,
        action text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
        target_type text,
        target_id text,
        tenant_id uuid,
        ip text,
        user_agent text,
        request_id text,
        details jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at DESC, id DESC);
      CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, occurred_at DESC);
      CREATE INDEX audit_log_target_idx ON audit_log (target_id, occurred_at DESC);
      CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, occurred_at DESC);
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only';
      END $$;
      CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE audit_log;
      DROP FUNCTION audit_log_append_only();
      DROP INDEX users_created_idx;
      ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz;
      ALTER TABLE memberships ALTER COLUMN created_at TYPE timestamptz;
      ALTER TABLE users DROP COLUMN banned_at, DROP COLUMN ban_reason, DROP COLUMN last_active_at;
      DROP TABLE user_platform_roles;
    `);
  }
}
