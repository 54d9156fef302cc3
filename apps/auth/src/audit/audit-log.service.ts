import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { stringify } from 'csv-stringify';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/** An export as its link pins it: the filter, the newest entry it holds and how many. */
export interface PinnedAuditExport {
  filter: AuditFilter;
  /** Null when nothing matched. */
  maxId: string | null;
  rowCount: number;
  truncated: boolean;
}

const EXPORT_BATCH_SIZE = 500;

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
 * happen nor misses what did; refusals (failed and throttled sign-ins) are written on their own.
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

  /**
   * Pins what an export of the matching entries holds: the newest matching id and how many rows
   * (at most `limit`). The log is append-only, so the rows up to that id never change afterwards.
   */
  async pinExport(filter: AuditFilter, limit: number): Promise<PinnedAuditExport> {
    const [sql, params] = this.filtered(filter).select('entry.id', 'id').orderBy('entry.id', 'DESC').limit(limit + 1).getQueryAndParameters();
    const [{ count, maxId }]: { count: number; maxId: string | null }[] = await this.dataSource.query(
      `SELECT count(*)::int AS count, max(id)::text AS "maxId" FROM (${sql}) AS pinned`,
      params,
    );
    return { filter, maxId, rowCount: Math.min(count, limit), truncated: count > limit };
  }

  /** The pinned entries, newest first, read in keyset batches so an export never holds them all. */
  async *pinnedEntries(pinned: PinnedAuditExport, batchSize = EXPORT_BATCH_SIZE): AsyncGenerator<AuditEntry> {
    if (pinned.maxId === null) return;
    let remaining = pinned.rowCount;
    let through = pinned.maxId;
    while (remaining > 0) {
      const batch = await this.filtered(pinned.filter)
        .andWhere('entry.id <= :through', { through })
        .orderBy('entry.id', 'DESC')
        .take(Math.min(batchSize, remaining))
        .getMany();
      for (const entry of batch) yield entry;
      remaining -= batch.length;
      if (batch.length === 0) return;
      through = String(BigInt(batch[batch.length - 1].id) - 1n);
    }
  }

  /** The pinned entries as CSV (RFC 4180, header row), produced batch by batch while it is read. */
  csvStream(pinned: PinnedAuditExport): Readable {
    const csv = stringify({ header: true, columns: [...AUDIT_CSV_COLUMNS], cast: { object: (value) => JSON.stringify(value) } });
    const rows = Readable.from(this.rows(pinned));
    // A failure reaches the reader through `csv` (pipeline destroys it with the error).
    pipeline(rows, csv).catch(() => undefined);
    return csv;
  }

  private async *rows(pinned: PinnedAuditExport): AsyncGenerator<Record<string, unknown>> {
    for await (const entry of this.pinnedEntries(pinned)) {
      yield { ...entry, occurredAt: entry.occurredAt.toISOString(), details: JSON.stringify(entry.details) };
    }
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
