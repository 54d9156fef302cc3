import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports of a tenant (names unique per tenant; created_at in milliseconds, the
 * keyset sort key), and the per-tenant tally the
 * export.created consumer keeps.
 */
export class CreateExportSchema1796236715989 implements MigrationInterface {
  name = 'CreateExportSchema1796236715989';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE exports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        owner_id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT exports_tenant_name_key UNIQUE (tenant_id, name)
      );
      CREATE INDEX exports_tenant_newest_idx ON exports (tenant_id, created_at DESC, id DESC);
      CREATE TABLE exports_tallies (
        tenant_id uuid PRIMARY KEY,
        created bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE exports_tallies;
      DROP TABLE exports;
    `);
  }
}
