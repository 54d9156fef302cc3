import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { uniqueViolationColumns } from '@multipult/database';
import { ExportRequested, OutboxWriter } from '@multipult/events';
import { Connection, ConnectionArgs, ConflictError, KeysetOrder, byKeys, paginate } from '@multipult/graphql';
import { CreateExportInput } from './dto';
import { Export } from './export.entity';

/** Newest first; created_at holds milliseconds, so a page never skips or repeats rows of one millisecond. */
const NEWEST_FIRST = new KeysetOrder({
  connection: 'export.exports',
  columns: [
    { expression: 'row.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

@Injectable()
export class ExportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Creates it and records export.created in the same transaction, so the event exists if and only if the row does. */
  async create(tenantId: string, ownerId: string, input: CreateExportInput): Promise<Export> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const created = await manager.save(manager.create(Export, { tenantId, ownerId, name: input.name.trim() }));
        await this.outbox.enqueue(manager, ExportRequested, {
          aggregateId: created.id,
          tenantId,
          actorId: ownerId,
          payload: { exportId: created.id, ownerId, format: 'pdf', title: created.name, itemCount: 0, scheduleId: null },
        });
        return created;
      });
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.export_exists');
      throw error;
    }
  }

  /** One tenant's rows for many ids, in id order (null where none is visible), for batched reference resolution. */
  async findByIds(tenantId: string, ids: readonly string[]): Promise<(Export | null)[]> {
    const rows = await this.dataSource.getRepository(Export).findBy({ tenantId, id: In([...ids]) });
    return byKeys(ids, rows, (row) => row.id);
  }

  /** The tenant's rows, newest first, a cursor page at a time. */
  list(tenantId: string, args: ConnectionArgs): Promise<Connection<Export>> {
    const query = this.dataSource.getRepository(Export).createQueryBuilder('row').where('row.tenant_id = :tenantId', { tenantId });
    return paginate(query, NEWEST_FIRST, args, { scope: tenantId });
  }
}
