import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NotFoundError } from '@multipult/graphql';
import { AuditLog } from '../audit/audit-log.service';
import { PlatformRole } from './platform-roles';

/** Operator bootstrap from the CLI: the first platform admin cannot be made through the API. */
@Injectable()
export class PlatformRoleGrants {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /** Gives the role to the account with this email; answers its id. */
  async grantByEmail(email: string, role: PlatformRole): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const [user]: { id: string }[] = await manager.query('SELECT id FROM users WHERE email = $1', [email.trim().toLowerCase()]);
      if (!user) throw new NotFoundError('User');
      await manager.query('INSERT INTO user_platform_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING', [user.id, role]);
      await this.audit.record(
        { action: 'platform_role.assigned', actorId: null, targetType: 'user', targetId: user.id, details: { role, via: 'cli' } },
        manager,
      );
      return user.id;
    });
  }
}
