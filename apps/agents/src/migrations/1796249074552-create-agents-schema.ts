import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents of a tenant (names unique per tenant; created_at in milliseconds, the
 * keyset sort key), and the per-tenant tally the
 * agent.created consumer keeps.
 */
export class CreateAgentsSchema1796249074552 implements MigrationInterface {
  name = 'CreateAgentsSchema1796249074552';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT agents_tenant_name_key UNIQUE (tenant_id, name)
      );
      CREATE INDEX agents_tenant_newest_idx ON agents (tenant_id, created_at DESC, id DESC);
      CREATE TABLE agents_tallies (
        tenant_id uuid PRIMARY KEY,
        created bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE agents_tallies;
      DROP TABLE agents;
    `);
  }
}
