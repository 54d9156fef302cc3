import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { uniqueViolationColumns } from '@multipult/database';
import { AgentCreated, OutboxWriter } from '@multipult/events';
import { Connection, ConnectionArgs, ConflictError, KeysetOrder, byKeys, paginate } from '@multipult/graphql';
import { CreateAgentInput } from './dto';
import { Agent } from './agent.entity';

/** Newest first; created_at holds milliseconds, so a page never skips or repeats rows of one millisecond. */
const NEWEST_FIRST = new KeysetOrder({
  connection: 'agents.agents',
  columns: [
    { expression: 'row.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

@Injectable()
export class AgentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Creates it and records agent.created in the same transaction, so the event exists if and only if the row does. */
  async create(tenantId: string, ownerId: string, input: CreateAgentInput): Promise<Agent> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const created = await manager.save(manager.create(Agent, { tenantId, ownerId, name: input.name.trim() }));
        await this.outbox.enqueue(manager, AgentCreated, {
          aggregateId: created.id,
          tenantId,
          actorId: ownerId,
          payload: { agentId: created.id, ownerId, name: created.name },
        });
        return created;
      });
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.agent_exists');
      throw error;
    }
  }

  /** One tenant's rows for many ids, in id order (null where none is visible), for batched reference resolution. */
  async findByIds(tenantId: string, ids: readonly string[]): Promise<(Agent | null)[]> {
    const rows = await this.dataSource.getRepository(Agent).findBy({ tenantId, id: In([...ids]) });
    return byKeys(ids, rows, (row) => row.id);
  }

  /** The tenant's rows, newest first, a cursor page at a time. */
  list(tenantId: string, args: ConnectionArgs): Promise<Connection<Agent>> {
    const query = this.dataSource.getRepository(Agent).createQueryBuilder('row').where('row.tenant_id = :tenantId', { tenantId });
    return paginate(query, NEWEST_FIRST, args, { scope: tenantId });
  }

  /** How many were created in the tenant, as counted by the event consumer. */
  async createdCount(tenantId: string): Promise<number> {
    const rows: { created: string }[] = await this.dataSource.query('SELECT created FROM agents_tallies WHERE tenant_id = $1', [
      tenantId,
    ]);
    return Number(rows[0]?.created ?? 0);
  }
}
