import { MigrationInterface, QueryRunner } from 'typeorm';

const MEMBER_AGENT_PERMISSIONS = ['agents:use', 'agents:approve'];

/** Members of every tenant may use personal agents and decide their own agents' risky tool calls, as the built-in role list says. */
export class MembersAgents1732400000012 implements MigrationInterface {
  name = 'MembersAgents1732400000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE roles SET permissions = ARRAY(SELECT DISTINCT unnest(permissions || $1::text[]) ORDER BY 1)
       WHERE tenant_id IS NULL AND name = 'member'`,
      [MEMBER_AGENT_PERMISSIONS],
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE roles SET permissions = ARRAY(SELECT unnest(permissions) EXCEPT SELECT unnest($1::text[]) ORDER BY 1)
       WHERE tenant_id IS NULL AND name = 'member'`,
      [MEMBER_AGENT_PERMISSIONS],
    );
  }
}
