import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { gunzipSync } from 'node:zlib';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import {
  EnvelopeOf,
  EventConsumer,
  OutboxWriter,
  UserDataExportPart,
  UserDataExportRequested,
  UserErasureCompleted,
  UserErasureRequested,
} from '@multipult/events';
import { ConflictError, NotFoundError, RateLimitedError } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import { FAST_STORE, FastStore } from '@multipult/redis';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthConfig } from '../config';
import { CredentialCutOff } from '../sessions/credential-cut-off';
import { SessionRevoker } from '../sessions/session-revoker';
import { AccountErasure, AccountErasureStatus, DataExport, DataExportStatus } from './dto';

export const AUTH_PRIVACY_SERVICE = 'auth';
export const EXPORT_FORMAT = 'multipult-export/1';
/** Events of the sagas themselves (ids only), kept in the outbox when an account is erased. */
const PRIVACY_SAGA_EVENTS = [UserErasureRequested, UserErasureCompleted, UserDataExportRequested, UserDataExportPart].map((contract) => contract.type);
/** The queue of the recurring privacy sweep. */
export const PRIVACY_SWEEP_QUEUE = 'privacy.sweep';

interface ErasureRow {
  id: string;
  user_id: string;
  participants: string[];
  confirmations: Record<string, { at: string; summary: Record<string, number> }>;
  status: AccountErasureStatus;
  requested_at: Date;
  completed_at: Date | null;
}

interface ExportRow {
  id: string;
  user_id: string;
  participants: string[];
  status: DataExportStatus;
  missing_services: string[];
  requested_at: Date;
  completed_at: Date | null;
}

const toErasure = (row: ErasureRow): AccountErasure => ({
  id: row.id,
  userId: row.user_id,
  status: row.status,
  confirmedServices: row.participants.filter((service) => row.confirmations[service]),
  pendingServices: row.participants.filter((service) => !row.confirmations[service]),
  requestedAt: row.requested_at,
  completedAt: row.completed_at,
});

const toExport = (row: ExportRow): DataExport => ({
  id: row.id,
  status: row.status,
  missingServices: row.missing_services,
  requestedAt: row.requested_at,
  completedAt: row.completed_at,
  url: null,
  expiresAt: null,
});

/** Everything but the document, which only the download reads. */
const EXPORT_COLUMNS = 'id, user_id, participants, status, missing_services, requested_at, completed_at';

/**
 * The GDPR sagas, coordinated by auth. Export: every participant sends its part over Kafka and auth
 * assembles one document (with its own part), or a partial one after a timeout. Erasure: auth
 * refuses the account at once (sessions revoked, sign-in refused), every participant erases its
 * part and confirms, and auth deletes the account itself once all have; erasures missing
 * confirmations past the timeout are reported overdue.
 */
@Injectable()
export class PrivacyService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(PrivacyService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AuthConfig,
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly events: EventConsumer,
    private readonly outbox: OutboxWriter,
    private readonly revoker: SessionRevoker,
    private readonly audit: AuditLog,
    private readonly cutOff: CredentialCutOff,
    private readonly jobs: JobQueue,
  ) {}

  /** The sweep runs every PRIVACY_SWEEP_SECONDS on one replica, not on each. */
  async onModuleInit(): Promise<void> {
    await this.jobs.defineRecurring({ name: PRIVACY_SWEEP_QUEUE, everySeconds: this.config.PRIVACY_SWEEP_SECONDS, handler: () => this.sweep() });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.consume({
      groupId: 'auth.privacy',
      contracts: [UserErasureCompleted, UserDataExportPart],
      handler: async (envelope, manager) => {
        if (envelope.type === UserErasureCompleted.type) await this.confirmErasure(manager, envelope as EnvelopeOf<typeof UserErasureCompleted>);
        else await this.receivePart(manager, envelope as EnvelopeOf<typeof UserDataExportPart>);
      },
    });
  }

  async requestExport(userId: string): Promise<DataExport> {
    const decision = await this.store.hitSlidingWindow(`rl:data-export:${userId}`, this.config.DATA_EXPORTS_PER_DAY, 86_400_000);
    if (!decision.allowed) throw new RateLimitedError(Math.ceil(decision.retryAfterMs / 1000));
    return this.dataSource.transaction(async (manager) => {
      const participants = this.config.PRIVACY_PARTICIPANTS;
      const [row]: ExportRow[] = await manager.query(
        `INSERT INTO data_exports (user_id, participants, status, deadline_at)
         VALUES ($1, $2, 'pending', now() + make_interval(secs => $3)) RETURNING *`,
        [userId, participants, this.config.DATA_EXPORT_TIMEOUT_SECONDS],
      );
      await this.outbox.enqueue(manager, UserDataExportRequested, { aggregateId: row.id, actorId: userId, payload: { exportId: row.id, userId, participants } });
      await this.audit.record({ action: 'data_export.requested', targetType: 'user', targetId: userId }, manager);
      // Nothing to wait for when no other service holds data.
      return toExport(participants.length ? row : await this.assemble(manager, row.id, []));
    });
  }

  async exportsOf(userId: string): Promise<DataExport[]> {
    const rows: ExportRow[] = await this.dataSource.query(
      `SELECT ${EXPORT_COLUMNS} FROM data_exports WHERE user_id = $1 ORDER BY requested_at DESC`,
      [userId],
    );
    return rows.map(toExport);
  }

  async exportOf(userId: string, exportId: string): Promise<DataExport> {
    const [row]: ExportRow[] = await this.dataSource.query(`SELECT ${EXPORT_COLUMNS} FROM data_exports WHERE id = $1 AND user_id = $2`, [
      exportId,
      userId,
    ]);
    if (!row) throw new NotFoundError('DataExport');
    return toExport(row);
  }

  /**
   * Starts erasing the account: from now on it cannot be used (sessions revoked, sign-in refused).
   * Asking again while one is under way answers that one.
   */
  async requestErasure(userId: string, requestedBy: string, reason: 'self' | 'admin'): Promise<AccountErasure> {
    const { erasure, revoked } = await this.dataSource.transaction(async (manager) => {
      const [user]: { id: string }[] = await manager.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [userId]);
      if (!user) throw new NotFoundError('User');
      const [open]: ErasureRow[] = await manager.query(`SELECT * FROM account_erasures WHERE user_id = $1 AND status <> 'completed'`, [userId]);
      if (open) return { erasure: open, revoked: [] as string[] };
      await this.assertErasable(manager, userId);
      await manager.query('UPDATE users SET erasure_requested_at = now() WHERE id = $1', [userId]);
      const revoked = await this.revoker.revokeInTransaction(manager, { userId }, 'account_deleted');
      const participants = this.config.PRIVACY_PARTICIPANTS;
      const [erasure]: ErasureRow[] = await manager.query(
        `INSERT INTO account_erasures (user_id, requested_by, reason, participants, status, deadline_at)
         VALUES ($1, $2, $3, $4, 'pending', now() + make_interval(secs => $5)) RETURNING *`,
        [userId, requestedBy, reason, participants, this.config.ERASURE_TIMEOUT_SECONDS],
      );
      await this.outbox.enqueue(manager, UserErasureRequested, {
        aggregateId: erasure.id,
        actorId: requestedBy,
        payload: { erasureId: erasure.id, userId, participants },
      });
      await this.audit.record(
        { action: 'account.erasure_requested', targetType: 'user', targetId: userId, details: { erasureId: erasure.id, reason, participants } },
        manager,
      );
      const completed = participants.length ? erasure : await this.finish(manager, erasure);
      return { erasure: completed, revoked };
    });
    await this.revoker.markRevoked(revoked);
    await this.cutOff.apply([userId]);
    return toErasure(erasure);
  }

  async erasure(erasureId: string): Promise<AccountErasure> {
    const [row]: ErasureRow[] = await this.dataSource.query('SELECT * FROM account_erasures WHERE id = $1', [erasureId]);
    if (!row) throw new NotFoundError('AccountErasure');
    return toErasure(row);
  }

  /** A tenant with other members must keep an admin, and the installation a platform admin. */
  private async assertErasable(manager: EntityManager, userId: string): Promise<void> {
    const [{ sole_admin_tenants, last_platform_admin }]: { sole_admin_tenants: number; last_platform_admin: boolean }[] = await manager.query(
      `SELECT
         (SELECT count(*)::int FROM memberships m JOIN roles r ON r.id = m.role_id
          WHERE m.user_id = $1 AND r.name = 'admin'
            AND EXISTS (SELECT 1 FROM memberships o WHERE o.tenant_id = m.tenant_id AND o.user_id <> $1)
            AND NOT EXISTS (SELECT 1 FROM memberships o JOIN roles ro ON ro.id = o.role_id
                            WHERE o.tenant_id = m.tenant_id AND o.user_id <> $1 AND ro.name = 'admin')) AS sole_admin_tenants,
         (EXISTS (SELECT 1 FROM user_platform_roles WHERE user_id = $1 AND role = 'platform_admin')
          AND NOT EXISTS (SELECT 1 FROM user_platform_roles WHERE user_id <> $1 AND role = 'platform_admin')) AS last_platform_admin`,
      [userId],
    );
    if (sole_admin_tenants > 0) throw new ConflictError('errors.sole_admin_of_tenants', { count: sole_admin_tenants });
    if (last_platform_admin) throw new ConflictError('errors.last_platform_admin');
  }

  private async confirmErasure(manager: EntityManager, envelope: EnvelopeOf<typeof UserErasureCompleted>): Promise<void> {
    const { erasureId, service, summary } = envelope.payload;
    const [row]: ErasureRow[] = await manager.query('SELECT * FROM account_erasures WHERE id = $1 FOR UPDATE', [erasureId]);
    if (!row || row.status === AccountErasureStatus.COMPLETED || !row.participants.includes(service) || row.confirmations[service]) return;
    const confirmations = { ...row.confirmations, [service]: { at: envelope.occurredAt, summary } };
    await manager.query('UPDATE account_erasures SET confirmations = $2 WHERE id = $1', [erasureId, confirmations]);
    this.logger.log({ erasureId, service, summary }, 'erasure confirmed by a participant');
    if (row.participants.every((participant) => confirmations[participant])) await this.finish(manager, { ...row, confirmations });
  }

  /**
   * Every participant confirmed: the account itself goes (memberships, sessions, roles, exports with
   * it), and so do the sent outbox rows about the user (address, name, sign-in IPs, invitations),
   * which were only kept for retention. The privacy sagas' own events stay: they hold only ids and
   * are what a participant's redelivered request replays. Rows not yet sent stay too, so consumers
   * still get every event in order.
   */
  private async finish(manager: EntityManager, row: ErasureRow): Promise<ErasureRow> {
    const [user]: { email: string }[] = await manager.query('SELECT email FROM users WHERE id = $1', [row.user_id]);
    if (user) await manager.query('DELETE FROM tenant_invitations WHERE email = $1', [user.email]);
    await manager.query(
      `DELETE FROM outbox WHERE published_at IS NOT NULL AND NOT (event_type = ANY($3::text[]))
         AND (envelope->'payload'->>'userId' = $1 OR envelope->>'actorId' = $1 OR lower(envelope->'payload'->>'email') = lower($2))`,
      [row.user_id, user?.email ?? null, PRIVACY_SAGA_EVENTS],
    );
    await manager.query('DELETE FROM users WHERE id = $1', [row.user_id]);
    // An UPDATE answers [rows, affected count] through TypeORM.
    const [[finished]]: [ErasureRow[], number] = await manager.query(
      `UPDATE account_erasures SET status = 'completed', completed_at = now() WHERE id = $1 RETURNING *`,
      [row.id],
    );
    await this.audit.record(
      { action: 'account.erased', actorId: null, targetType: 'user', targetId: row.user_id, details: { erasureId: row.id, confirmations: row.confirmations } },
      manager,
    );
    this.logger.log({ erasureId: row.id, userId: row.user_id }, 'account erased everywhere');
    return finished;
  }

  private async receivePart(manager: EntityManager, envelope: EnvelopeOf<typeof UserDataExportPart>): Promise<void> {
    const { exportId, service, chunk, chunkCount, data } = envelope.payload;
    const [row]: ExportRow[] = await manager.query('SELECT * FROM data_exports WHERE id = $1 FOR UPDATE', [exportId]);
    if (!row || row.status !== DataExportStatus.PENDING || !row.participants.includes(service)) return;
    await manager.query(
      'INSERT INTO data_export_parts (export_id, service, chunk, chunk_count, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
      [exportId, service, chunk, chunkCount, data],
    );
    const complete = await this.completeServices(manager, exportId);
    if (row.participants.every((participant) => complete.includes(participant))) await this.assemble(manager, exportId, []);
  }

  /** Services all of whose chunks have arrived. */
  private async completeServices(manager: EntityManager, exportId: string): Promise<string[]> {
    const rows: { service: string }[] = await manager.query(
      'SELECT service FROM data_export_parts WHERE export_id = $1 GROUP BY service HAVING count(*) = max(chunk_count)',
      [exportId],
    );
    return rows.map((row) => row.service);
  }

  /** One document from the parts that arrived and auth's own part; `missing` names the rest. */
  private async assemble(manager: EntityManager, exportId: string, missing: string[]): Promise<ExportRow> {
    const [row]: ExportRow[] = await manager.query(`SELECT ${EXPORT_COLUMNS} FROM data_exports WHERE id = $1`, [exportId]);
    const complete = await this.completeServices(manager, exportId);
    const parts: { service: string; data: string }[] = await manager.query(
      `SELECT service, string_agg(data, '' ORDER BY chunk) AS data FROM data_export_parts
       WHERE export_id = $1 AND service = ANY($2::text[]) GROUP BY service`,
      [exportId, complete],
    );
    const services: Record<string, unknown> = { [AUTH_PRIVACY_SERVICE]: await this.authPart(manager, row.user_id) };
    for (const part of parts) services[part.service] = JSON.parse(gunzipSync(Buffer.from(part.data, 'base64')).toString('utf8'));
    const document = { format: EXPORT_FORMAT, exportId, userId: row.user_id, exportedAt: new Date().toISOString(), missingServices: missing, services };
    const [[assembled]]: [ExportRow[], number] = await manager.query(
      `UPDATE data_exports SET status = $2, missing_services = $3, document = $4, completed_at = now() WHERE id = $1 RETURNING ${EXPORT_COLUMNS}`,
      [exportId, missing.length ? DataExportStatus.PARTIAL : DataExportStatus.READY, missing, document],
    );
    await manager.query('DELETE FROM data_export_parts WHERE export_id = $1', [exportId]);
    return assembled;
  }

  private async authPart(manager: EntityManager, userId: string): Promise<Record<string, unknown>> {
    const [[profile], memberships, sessions, platformRoles, securityEvents] = await Promise.all([
      manager.query(
        `SELECT id, email, display_name AS "displayName", username, email_verified_at AS "emailVerifiedAt", created_at AS "createdAt",
                last_active_at AS "lastActiveAt" FROM users WHERE id = $1`,
        [userId],
      ),
      manager.query(
        `SELECT t.id AS "tenantId", t.name AS "tenantName", r.name AS role, m.created_at AS "joinedAt"
         FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN roles r ON r.id = m.role_id WHERE m.user_id = $1 ORDER BY m.created_at`,
        [userId],
      ),
      manager.query(
        `SELECT id, user_agent AS "userAgent", ip, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"
         FROM sessions WHERE user_id = $1 ORDER BY created_at`,
        [userId],
      ),
      manager.query('SELECT role, granted_at AS "grantedAt" FROM user_platform_roles WHERE user_id = $1', [userId]),
      manager.query(
        `SELECT occurred_at AS "occurredAt", action, outcome, ip, user_agent AS "userAgent" FROM audit_log
         WHERE actor_id = $1 OR (target_type = 'user' AND target_id = $1::text) ORDER BY id DESC LIMIT 1000`,
        [userId],
      ),
    ]);
    return { profile: profile ?? null, memberships, sessions, platformRoles, securityEvents };
  }

  /** Reports overdue erasures, assembles timed-out exports from what arrived, drops expired exports. */
  async sweep(): Promise<void> {
    const overdue: ErasureRow[] = await this.dataSource.query(
      `UPDATE account_erasures SET status = 'overdue' WHERE id IN (
         SELECT id FROM account_erasures WHERE status = 'pending' AND deadline_at < now() FOR UPDATE SKIP LOCKED
       ) RETURNING *`,
    ).then(([rows]: [ErasureRow[], number]) => rows);
    for (const row of overdue) {
      const erasure = toErasure(row);
      this.logger.warn({ erasureId: row.id, userId: row.user_id, pendingServices: erasure.pendingServices }, 'erasure overdue: services have not confirmed');
      await this.audit.record({
        action: 'account.erasure_overdue',
        actorId: null,
        targetType: 'user',
        targetId: row.user_id,
        details: { erasureId: row.id, pendingServices: erasure.pendingServices },
      });
    }
    await this.dataSource.transaction(async (manager) => {
      const timedOut: { id: string; participants: string[] }[] = await manager.query(
        `SELECT id, participants FROM data_exports WHERE status = 'pending' AND deadline_at < now() FOR UPDATE SKIP LOCKED`,
      );
      for (const row of timedOut) {
        const complete = await this.completeServices(manager, row.id);
        const missing = row.participants.filter((service) => !complete.includes(service));
        await this.assemble(manager, row.id, missing);
        this.logger.warn({ exportId: row.id, missing }, 'data export assembled without every part');
      }
      await manager.query('DELETE FROM data_exports WHERE requested_at < now() - make_interval(days => $1)', [this.config.DATA_EXPORT_RETENTION_DAYS]);
    });
  }
}
