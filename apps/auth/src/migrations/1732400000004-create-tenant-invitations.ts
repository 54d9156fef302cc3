import { MigrationInterface, QueryRunner } from 'typeorm';

/** Invitations into a tenant by email: one pending per address and tenant; the token is stored as SHA-256 only. */
export class CreateTenantInvitations1732400000004 implements MigrationInterface {
  name = 'CreateTenantInvitations1732400000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tenant_invitations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        email text NOT NULL,
        role_id uuid NOT NULL REFERENCES roles(id),
        invited_by uuid REFERENCES users(id) ON DELETE SET NULL,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        accepted_by uuid REFERENCES users(id) ON DELETE SET NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX tenant_invitations_pending_key ON tenant_invitations (tenant_id, email)
        WHERE accepted_at IS NULL AND revoked_at IS NULL;
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE tenant_invitations');
  }
}
