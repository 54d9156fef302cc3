import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { OutboxWriter, UserBanned, UserUnbanned } from '@multipult/events';
import {
  ConflictError,
  Connection,
  ConnectionArgs,
  ForbiddenError,
  KeysetOrder,
  NotFoundError,
  pageSizeOf,
} from '@multipult/graphql';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { CredentialCutOff } from '../sessions/credential-cut-off';
import { SessionRevoker } from '../sessions/session-revoker';
import { BulkRolePayload, ManagedUser, RoleCount, SystemStats, UsersFilter } from './dto';
import { PlatformRole } from './platform-roles';

interface ManagedUserRow {
  id: string;
  email: string;
  display_name: string;
  username: string;
  email_verified_at: Date | null;
  banned_at: Date | null;
  ban_reason: string | null;
  last_active_at: Date | null;
  created_at: Date;
  platform_roles: PlatformRole[];
  active: boolean;
}

/** Active: not banned, and signed in within the days given (a validated integer from config). */
const activeCondition = (days: number) => `(u.banned_at IS NULL AND u.last_active_at > now() - make_interval(days => ${Math.trunc(days)}))`;

const managedUserColumns = (activeDays: number) => `u.id, u.email, u.display_name, u.username, u.email_verified_at, u.banned_at,
  u.ban_reason, u.last_active_at, u.created_at,
  array(SELECT r.role FROM user_platform_roles r WHERE r.user_id = u.id ORDER BY r.role) AS platform_roles,
  coalesce(${activeCondition(activeDays)}, false) AS active`;

const NEWEST_USERS = new KeysetOrder({
  connection: 'auth.admin.users',
  columns: [
    { expression: 'u.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'u.id', type: 'uuid', direction: 'DESC' },
  ],
});

/** LIKE wildcards in user text match themselves. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** The platform operators' console: users, bans, platform roles, statistics. Every change is audited. */
@Injectable()
export class AdminService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    private readonly revoker: SessionRevoker,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly apiKeys: ApiKeysService,
    private readonly cutOff: CredentialCutOff,
  ) {}

  /** Newest accounts first. */
  async users(filter: UsersFilter, args: ConnectionArgs): Promise<Connection<ManagedUser>> {
    const pageSize = pageSizeOf(args);
    const after = NEWEST_USERS.decode(args.after);
    const params: unknown[] = [];
    const conditions: string[] = [];
    const active = activeCondition(this.config.ACTIVE_USER_DAYS);
    if (filter.active !== undefined) conditions.push(filter.active ? active : `NOT coalesce(${active}, false)`);
    if (filter.verified !== undefined) conditions.push(`u.email_verified_at IS ${filter.verified ? 'NOT ' : ''}NULL`);
    if (filter.banned !== undefined) conditions.push(`u.banned_at IS ${filter.banned ? 'NOT ' : ''}NULL`);
    if (filter.role) {
      params.push(filter.role);
      conditions.push(`EXISTS (SELECT 1 FROM user_platform_roles r WHERE r.user_id = u.id AND r.role = $${params.length})`);
    }
    if (filter.search?.trim()) {
      params.push(likePattern(filter.search.trim()));
      const p = `$${params.length}`;
      conditions.push(`(u.email ILIKE ${p} OR u.display_name ILIKE ${p} OR u.username ILIKE ${p})`);
    }
    const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
    const [{ count }]: { count: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM users u ${where}`,
      params,
    );
    const pageParams = [...params];
    const bind = (value: unknown) => `$${pageParams.push(value)}`;
    const pageConditions = after ? [...conditions, NEWEST_USERS.seek(after, bind)] : conditions;
    const rows: ManagedUserRow[] = await this.dataSource.query(
      `SELECT ${managedUserColumns(this.config.ACTIVE_USER_DAYS)} FROM users u ${pageConditions.length ? `WHERE ${pageConditions.join(' AND ')}` : ''}
       ORDER BY ${NEWEST_USERS.orderBy()} LIMIT ${bind(pageSize + 1)}`,
      pageParams,
    );
    return NEWEST_USERS.connection(rows, pageSize, count, (row) => [row.created_at, row.id], toManagedUser);
  }

  async user(userId: string, manager: EntityManager = this.dataSource.manager): Promise<ManagedUser> {
    const [row]: ManagedUserRow[] = await manager.query(`SELECT ${managedUserColumns(this.config.ACTIVE_USER_DAYS)} FROM users u WHERE u.id = $1`, [
      userId,
    ]);
    if (!row) throw new NotFoundError('User');
    return toManagedUser(row);
  }

  /** Ends every session of the user at once and refuses their sign-ins until unbanned. */
  async ban(actorId: string, userId: string, reason: string | null): Promise<ManagedUser> {
    if (actorId === userId) throw new ForbiddenError('errors.cannot_target_self');
    const { user, revoked } = await this.dataSource.transaction(async (manager) => {
      const [rows]: [{ id: string }[], number] = await manager.query(
        'UPDATE users SET banned_at = coalesce(banned_at, now()), ban_reason = $2 WHERE id = $1 RETURNING id',
        [userId, reason],
      );
      if (!rows.length) throw new NotFoundError('User');
      const revoked = await this.revoker.revokeInTransaction(manager, { userId }, 'ban');
      await this.outbox.enqueue(manager, UserBanned, { aggregateId: userId, actorId, payload: { userId, bannedBy: actorId, reason } });
      await this.audit.record({ action: 'user.banned', targetType: 'user', targetId: userId, details: { reason, sessionsRevoked: revoked.length } }, manager);
      return { user: await this.user(userId, manager), revoked };
    });
    await this.revoker.markRevoked(revoked);
    // Also every token not tied to a session row (a refresh racing the ban), and the API keys.
    await this.cutOff.apply([userId]);
    return user;
  }

  async unban(actorId: string, userId: string): Promise<ManagedUser> {
    if (actorId === userId) throw new ForbiddenError('errors.cannot_target_self');
    const user = await this.dataSource.transaction(async (manager) => {
      const [rows]: [{ id: string }[], number] = await manager.query(
        'UPDATE users SET banned_at = NULL, ban_reason = NULL WHERE id = $1 AND banned_at IS NOT NULL RETURNING id',
        [userId],
      );
      // Unbanning someone not banned changes nothing (NOT_FOUND when there is no such user).
      if (!rows.length) return this.user(userId, manager);
      await this.outbox.enqueue(manager, UserUnbanned, { aggregateId: userId, actorId, payload: { userId, unbannedBy: actorId } });
      await this.audit.record({ action: 'user.unbanned', targetType: 'user', targetId: userId }, manager);
      return this.user(userId, manager);
    });
    await this.apiKeys.publish([userId]);
    return user;
  }

  async assignRole(userIds: string[], role: PlatformRole): Promise<BulkRolePayload> {
    return this.dataSource.transaction(async (manager) => {
      const unknownUserIds = await this.unknownUsers(manager, userIds);
      const changed: { user_id: string }[] = await manager.query(
        `INSERT INTO user_platform_roles (user_id, role) SELECT id, $2 FROM users WHERE id = ANY($1::uuid[])
         ON CONFLICT DO NOTHING RETURNING user_id`,
        [userIds, role],
      );
      for (const { user_id } of changed) {
        await this.audit.record({ action: 'platform_role.assigned', targetType: 'user', targetId: user_id, details: { role } }, manager);
      }
      // Tokens issued before carry fewer permissions, which is safe; the next refresh brings the role.
      return { changedCount: changed.length, unknownUserIds };
    });
  }

  async removeRole(userIds: string[], role: PlatformRole): Promise<BulkRolePayload> {
    const result = await this.dataSource.transaction(async (manager) => {
      const unknownUserIds = await this.unknownUsers(manager, userIds);
      if (role === PlatformRole.PLATFORM_ADMIN) {
        const admins: { user_id: string }[] = await manager.query(
          `SELECT user_id FROM user_platform_roles WHERE role = $1 FOR UPDATE`,
          [PlatformRole.PLATFORM_ADMIN],
        );
        if (admins.every((admin) => userIds.includes(admin.user_id))) throw new ConflictError('errors.last_platform_admin');
      }
      const [changed]: [{ user_id: string }[], number] = await manager.query(
        'DELETE FROM user_platform_roles WHERE user_id = ANY($1::uuid[]) AND role = $2 RETURNING user_id',
        [userIds, role],
      );
      for (const { user_id } of changed) {
        await this.audit.record({ action: 'platform_role.removed', targetType: 'user', targetId: user_id, details: { role } }, manager);
      }
      return { changedCount: changed.length, unknownUserIds, changedUserIds: changed.map((row) => row.user_id) };
    });
    // Their tokens carry the removed permissions: they stop now, and a refresh issues ones without.
    await this.cutOff.apply(result.changedUserIds);
    return { changedCount: result.changedCount, unknownUserIds: result.unknownUserIds };
  }

  async stats(): Promise<SystemStats> {
    const [[users], [sessions], platformRoles, tenantRoles] = await Promise.all([
      this.dataSource.query(
        `SELECT count(*)::int AS total,
           count(*) FILTER (WHERE ${activeCondition(this.config.ACTIVE_USER_DAYS)})::int AS active,
           count(*) FILTER (WHERE u.email_verified_at IS NOT NULL)::int AS verified,
           count(*) FILTER (WHERE u.created_at > now() - interval '30 days')::int AS new_last_30_days,
           count(*) FILTER (WHERE u.banned_at IS NOT NULL)::int AS banned
         FROM users u`,
      ),
      this.dataSource.query(`SELECT count(*)::int AS count FROM sessions WHERE revoked_at IS NULL AND expires_at > now()`),
      this.dataSource.query(`SELECT role, count(*)::int AS count FROM user_platform_roles GROUP BY role ORDER BY role`),
      this.dataSource.query(
        `SELECT r.name AS role, count(*)::int AS count FROM memberships m JOIN roles r ON r.id = m.role_id GROUP BY r.name ORDER BY r.name`,
      ),
    ]);
    return {
      usersTotal: users.total,
      usersActive: users.active,
      usersVerified: users.verified,
      usersNewLast30Days: users.new_last_30_days,
      usersBanned: users.banned,
      activeSessions: sessions.count,
      platformRoleDistribution: platformRoles as RoleCount[],
      tenantRoleDistribution: tenantRoles as RoleCount[],
    };
  }

  private async unknownUsers(manager: EntityManager, userIds: string[]): Promise<string[]> {
    const known: { id: string }[] = await manager.query('SELECT id FROM users WHERE id = ANY($1::uuid[])', [userIds]);
    const knownIds = new Set(known.map((row) => row.id));
    return [...new Set(userIds)].filter((id) => !knownIds.has(id));
  }
}

function toManagedUser(row: ManagedUserRow): ManagedUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    username: row.username,
    emailVerified: row.email_verified_at !== null,
    active: row.active === true,
    bannedAt: row.banned_at,
    banReason: row.ban_reason,
    platformRoles: row.platform_roles,
    lastActiveAt: row.last_active_at,
    createdAt: row.created_at,
  };
}
