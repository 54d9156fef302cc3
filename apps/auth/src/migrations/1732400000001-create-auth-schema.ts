import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuthSchema1732400000001 implements MigrationInterface {
  name = 'CreateAuthSchema1732400000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        display_name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        slug text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE roles (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        permissions text[] NOT NULL
      );
      CREATE UNIQUE INDEX roles_builtin_name_idx ON roles (name) WHERE tenant_id IS NULL;
      CREATE UNIQUE INDEX roles_tenant_name_idx ON roles (tenant_id, name) WHERE tenant_id IS NOT NULL;
      CREATE TABLE memberships (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, user_id)
      );
      CREATE INDEX memberships_user_idx ON memberships (user_id, created_at);
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        tenant_id uuid REFERENCES tenants(id) ON DELETE SET NULL,
        user_agent text,
        ip text,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_reason text
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        public_jwk jsonb NOT NULL,
        private_jwk_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      );
      INSERT INTO roles (name, permissions) VALUES
        ('admin', ARRAY['*']),
        ('member', ARRAY['content:read', 'content:write', 'notifications:read', 'tenant:read']),
        ('viewer', ARRAY['content:read', 'tenant:read']);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE signing_keys;
      DROP TABLE refresh_tokens;
      DROP TABLE sessions;
      DROP TABLE memberships;
      DROP TABLE roles;
      DROP TABLE tenants;
      DROP TABLE users;
    `);
  }
}
