import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sealEmailedToken } from '@multipult/auth';
import { InjectConfig } from '@multipult/config';
import { OutboxWriter, TenantInvitationCreated, TenantMemberAdded } from '@multipult/events';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '@multipult/graphql';
import { AuditLog } from '../audit/audit-log.service';
import { RolesService } from '../roles/roles.service';
import { TenantSettingsService } from '../tenant-settings/tenant-settings.service';
import type { AuthConfig } from '../config';
import { hashSecretToken, newSecretToken } from '../one-time-tokens/secret-token';
import { Membership } from '../tenants/membership.entity';
import { TenantInvitation } from './dto';

interface InvitationRow {
  id: string;
  email: string;
  role: string;
  expires_at: Date;
  created_at: Date;
}

const toInvitation = (row: InvitationRow): TenantInvitation => ({
  id: row.id,
  email: row.email,
  role: row.role,
  expiresAt: row.expires_at,
  createdAt: row.created_at,
});

/**
 * Invitations by email: the invitee gets a one-time link (sent by the notifications service from
 * tenant.invitation_created) and joins by accepting it signed in with that address. Inviting the
 * same address again replaces the pending invitation.
 */
@Injectable()
export class InvitationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly roles: RolesService,
    private readonly tenantSettings: TenantSettingsService,
  ) {}

  async invite(tenantId: string, inviterId: string, rawEmail: string, roleName: string, grantorPermissions: readonly string[]): Promise<TenantInvitation> {
    const email = rawEmail.trim().toLowerCase();
    const token = newSecretToken();
    return this.dataSource.transaction(async (manager) => {
      const [member]: unknown[] = await manager.query(
        'SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND u.email = $2',
        [tenantId, email],
      );
      if (member) throw new ConflictError('errors.already_member');
      const settings = await this.tenantSettings.assertCanAdmit(manager, tenantId, email);
      const ttlDays = settings.invitationTtlDays ?? this.config.INVITATION_TTL_DAYS;
      const expiresAt = new Date(Date.now() + ttlDays * 86_400_000);
      const role = await this.roles.assignable(manager, tenantId, roleName, grantorPermissions);
      const [context]: { tenant_name: string; inviter_name: string }[] = await manager.query(
        `SELECT t.name AS tenant_name, u.display_name AS inviter_name FROM tenants t, users u WHERE t.id = $1 AND u.id = $2`,
        [tenantId, inviterId],
      );
      await manager.query(
        `UPDATE tenant_invitations SET revoked_at = now() WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
        [tenantId, email],
      );
      const [row]: InvitationRow[] = await manager.query(
        `INSERT INTO tenant_invitations (tenant_id, email, role_id, invited_by, token_hash, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, email, $7::text AS role, expires_at, created_at`,
        [tenantId, email, role.id, inviterId, hashSecretToken(token), expiresAt, roleName],
      );
      await this.outbox.enqueue(manager, TenantInvitationCreated, {
        aggregateId: tenantId,
        tenantId,
        actorId: inviterId,
        payload: {
          invitationId: row.id,
          tenantId,
          tenantName: context.tenant_name,
          email,
          role: roleName,
          invitedBy: inviterId,
          inviterName: context.inviter_name,
          sealedToken: sealEmailedToken(token, this.config.EMAIL_TOKEN_SEAL_KEY, TenantInvitationCreated.type),
          expiresAt: expiresAt.toISOString(),
        },
      });
      await this.audit.record({ action: 'invitation.created', targetType: 'invitation', targetId: row.id, tenantId, details: { role: roleName } }, manager);
      return toInvitation(row);
    });
  }

  async pending(tenantId: string): Promise<TenantInvitation[]> {
    const rows: InvitationRow[] = await this.dataSource.query(
      `SELECT i.id, i.email, r.name AS role, i.expires_at, i.created_at FROM tenant_invitations i JOIN roles r ON r.id = i.role_id
       WHERE i.tenant_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now() ORDER BY i.created_at`,
      [tenantId],
    );
    return rows.map(toInvitation);
  }

  async revoke(tenantId: string, id: string): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const [, count]: [unknown, number] = await manager.query(
        'UPDATE tenant_invitations SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL',
        [id, tenantId],
      );
      if (!count) throw new NotFoundError('TenantInvitation');
      await this.audit.record({ action: 'invitation.revoked', targetType: 'invitation', targetId: id, tenantId }, manager);
      return id;
    });
  }

  /** Joins the caller to the tenant; the invitation must be for the caller's own address. */
  async accept(userId: string, token: string): Promise<Membership> {
    return this.dataSource.transaction(async (manager) => {
      const [invitation]: { id: string; tenant_id: string; email: string; role_id: string; role: string }[] = await manager.query(
        `SELECT i.id, i.tenant_id, i.email, i.role_id, r.name AS role FROM tenant_invitations i JOIN roles r ON r.id = i.role_id
         WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now() FOR UPDATE OF i`,
        [hashSecretToken(token)],
      );
      if (!invitation) throw BadUserInputError.field('token', 'errors.token_invalid');
      const [user]: { email: string }[] = await manager.query('SELECT email FROM users WHERE id = $1', [userId]);
      if (user?.email !== invitation.email) throw new ForbiddenError('errors.invitation_other_address');
      const [existing]: unknown[] = await manager.query('SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2', [invitation.tenant_id, userId]);
      // The tenant's rules may have changed since the invitation was sent.
      if (!existing) await this.tenantSettings.assertCanAdmit(manager, invitation.tenant_id, user.email, 'token');
      await manager.query('UPDATE tenant_invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [invitation.id, userId]);
      // The link reached the address, which proves it as a verification would.
      await manager.query('UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1', [userId]);
      const [inserted]: unknown[] = await manager.query(
        'INSERT INTO memberships (tenant_id, user_id, role_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id',
        [invitation.tenant_id, userId, invitation.role_id],
      );
      if (inserted) {
        await this.outbox.enqueue(manager, TenantMemberAdded, {
          aggregateId: invitation.tenant_id,
          tenantId: invitation.tenant_id,
          actorId: userId,
          payload: { tenantId: invitation.tenant_id, userId, role: invitation.role },
        });
      }
      await this.audit.record(
        { action: 'invitation.accepted', targetType: 'invitation', targetId: invitation.id, tenantId: invitation.tenant_id, details: { role: invitation.role } },
        manager,
      );
      return manager.findOneOrFail(Membership, {
        where: { tenantId: invitation.tenant_id, userId },
        relations: { tenant: true, user: true, role: true },
      });
    });
  }
}
