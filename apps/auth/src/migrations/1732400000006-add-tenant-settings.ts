import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-tenant settings as one validated JSON document (see tenant-settings/tenant-settings.ts). */
export class AddTenantSettings1732400000006 implements MigrationInterface {
  name = 'AddTenantSettings1732400000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE tenants DROP COLUMN settings');
  }
}
