import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { stringify } from 'csv-stringify/sync';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { Connection, ConnectionArgs, KeysetOrder, paginate } from '@multipult/graphql';
import { RequestContext } from '@multipult/observability';
import { AuditEntry, AuditOutcome } from './audit-entry.entity';

/** Newest first by the identity column (strictly increasing with time of writing). */
const NEWEST_ENTRIES = new KeysetOrder({
  connection: 'auth.auditLog',
  columns: [{ expression: 'entry.id', type: 'integer', direction: 'DESC' }],
});

export interface AuditRecord {
  action: string;
  outcome?: AuditOutcome;
  /** Defaults to the request's caller; pass null for the system. */
  actorId?: string | null;
  targetType?: string;
  targetId?: string | null;
  tenantId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditFilter {
  actorId?: string;
  targetId?: string;
  /** An exact action, or a prefix ending in `.` (e.g. `admin.`). */
  action?: string;
  outcome?: AuditOutcome;
  tenantId?: string;
  from?: Date;
  to?: Date;
}

export const AUDIT_CSV_COLUMNS = [
  'id',
  'occurredAt',
  'actorId',
  'action',
  'outcome',
  'targetType',
  'targetId',
  'tenantId',
  'ip',
  'userAgent',
  'requestId',
  'details',
] as const;

/**
 * The append-only record of security and administrative actions. Entries of an action that
 * changes data are written in that action's transaction, so the log never claims what did not
 * happen nor misses what did; refusals (failed sign-ins, lockouts) are written on their own.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(entry: AuditRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    const context = RequestContext.current();
    await manager.query(
      `INSERT INTO audit_log (actor_id, action, outcome, target_type, target_id, tenant_id, ip, user_agent, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        entry.actorId === undefined ? (context?.userId ?? null) : entry.actorId,
        entry.action,
        entry.outcome ?? AuditOutcome.SUCCESS,
        entry.targetType ?? null,
        entry.targetId ?? null,
        entry.tenantId ?? null,
        context?.clientIp ?? null,
        context?.userAgent?.slice(0, 512) ?? null,
        context?.requestId ?? null,
        entry.details ?? {},
      ],
    );
  }

  /** Records a refusal without failing the request that is being refused when the write fails. */
  async recordFailure(entry: Omit<AuditRecord, 'outcome'>): Promise<void> {
    try {
      await this.record({ ...entry, outcome: AuditOutcome.FAILURE });
    } catch (error) {
      this.logger.error({ err: error, action: entry.action }, 'audit entry not written');
    }
  }

  async query(filter: AuditFilter, args: ConnectionArgs): Promise<Connection<AuditEntry>> {
    return paginate(this.filtered(filter), NEWEST_ENTRIES, args);
  }

  /** The matching entries as CSV (RFC 4180, header row), newest first, at most `limit` rows. */
  async exportCsv(filter: AuditFilter, limit: number): Promise<{ csv: string; rowCount: number; truncated: boolean }> {
    const rows = await this.filtered(filter).orderBy('entry.id', 'DESC').take(limit + 1).getMany();
    const exported = rows.slice(0, limit);
    const csv = stringify(
      exported.map((entry) => ({ ...entry, occurredAt: entry.occurredAt.toISOString(), details: JSON.stringify(entry.details) })),
      { header: true, columns: [...AUDIT_CSV_COLUMNS], cast: { object: (value) => JSON.stringify(value) } },
    );
    return { csv, rowCount: exported.length, truncated: rows.length > limit };
  }

  private filtered(filter: AuditFilter): SelectQueryBuilder<AuditEntry> {
    const query = this.dataSource.getRepository(AuditEntry).createQueryBuilder('entry').where('true');
    if (filter.actorId) query.andWhere('entry.actor_id = :actorId', { actorId: filter.actorId });
    if (filter.targetId) query.andWhere('entry.target_id = :targetId', { targetId: filter.targetId });
    if (filter.tenantId) query.andWhere('entry.tenant_id = :tenantId', { tenantId: filter.tenantId });
    if (filter.outcome) query.andWhere('entry.outcome = :outcome', { outcome: filter.outcome });
    if (filter.from) query.andWhere('entry.occurred_at >= :from', { from: filter.from });
    if (filter.to) query.andWhere('entry.occurred_at < :to', { to: filter.to });
    if (filter.action?.endsWith('.')) query.andWhere('starts_with(entry.action, :prefix)', { prefix: filter.action });
    else if (filter.action) query.andWhere('entry.action = :action', { action: filter.action });
    return query;
  }
}
