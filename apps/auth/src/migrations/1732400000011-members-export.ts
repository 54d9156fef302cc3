import { MigrationInterface, QueryRunner } from 'typeorm';

/** Members of every tenant may export what they can read (export:create), as the built-in role list says. */
export class MembersExport1732400000011 implements MigrationInterface {
  name = 'MembersExport1732400000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE roles SET permissions = array_append(permissions, 'export:create')
       WHERE tenant_id IS NULL AND name = 'member' AND NOT 'export:create' = ANY(permissions)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE roles SET permissions = array_remove(permissions, 'export:create') WHERE tenant_id IS NULL AND name = 'member'`);
  }
}
