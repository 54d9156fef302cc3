import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { AuthPrincipal, hasPermission } from '@multipult/auth';
import { uniqueViolationColumns } from '@multipult/database';
import { AgentArchived, AgentCreated, AgentUpdated, OutboxWriter } from '@multipult/events';
import { BadUserInputError, ConflictError, Connection, ForbiddenError, KeysetOrder, NotFoundError, byKeys, paginate } from '@multipult/graphql';
import { ModelGateway, UnknownModelError } from '../models/model-gateway';
import { ToolRegistry } from '../tools/tool-registry';
import { AgentVersion } from './agent-version.entity';
import { Agent, AgentSettings, AgentStatus, AutoApprove, settingsOf } from './agent.entity';
import { AgentMetrics, AgentsArgs, CreateAgentInput, UpdateAgentInput } from './dto';

const NEWEST_FIRST = new KeysetOrder({
  connection: 'agents.agents',
  columns: [
    { expression: 'row.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

/** Who is asking, in which tenant. */
export interface Caller {
  tenantId: string;
  principal: AuthPrincipal;
}

export const canManageAgents = (principal: AuthPrincipal) => hasPermission(principal.permissions, 'agents:manage');

@Injectable()
export class AgentsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly models: ModelGateway,
    private readonly tools: ToolRegistry,
  ) {}

  /** Creates it at version 1 and records agent.created in the same transaction. */
  async create({ tenantId, principal }: Caller, input: CreateAgentInput): Promise<Agent> {
    const settings: AgentSettings = {
      name: input.name.trim(),
      description: input.description?.trim() ?? '',
      systemPrompt: input.systemPrompt ?? '',
      model: input.model ?? this.models.defaultChatModel(),
      tools: [...new Set(input.tools ?? [])],
      concurrencyLimit: input.concurrencyLimit ?? 2,
      autoApprove: input.autoApprove ?? AutoApprove.LOW,
      tokenBudgetPerRun: input.tokenBudgetPerRun ?? null,
      costBudgetUsd: input.costBudgetUsd ?? null,
      maxOutputTokens: input.maxOutputTokens ?? 1024,
    };
    this.checkSettings(settings);
    return this.unique(() =>
      this.dataSource.transaction(async (manager) => {
        const agent = await manager.save(
          manager.create(Agent, { ...settings, tenantId, ownerId: principal.userId, version: 1, status: AgentStatus.READY, lastError: null, archivedAt: null }),
        );
        await this.recordVersion(manager, agent, principal.userId);
        await this.outbox.enqueue(manager, AgentCreated, {
          aggregateId: agent.id,
          tenantId,
          actorId: principal.userId,
          payload: { agentId: agent.id, ownerId: agent.ownerId, name: agent.name, version: 1, model: agent.model },
        });
        return agent;
      }),
    );
  }

  /** Changes the named settings as a new version; runs already started keep the version they recorded. */
  async update(caller: Caller, input: UpdateAgentInput): Promise<Agent> {
    return this.unique(() =>
      this.dataSource.transaction(async (manager) => {
        const agent = await this.manageable(caller, input.id, manager, true);
        const { id: _id, ...changes } = input;
        const next: AgentSettings = { ...settingsOf(agent) };
        for (const [key, value] of Object.entries(changes) as [keyof AgentSettings, unknown][]) {
          if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = typeof value === 'string' && key !== 'systemPrompt' ? value.trim() : value;
        }
        next.tools = [...new Set(next.tools)];
        this.checkSettings(next);
        if (JSON.stringify(next) === JSON.stringify(settingsOf(agent))) return agent;
        Object.assign(agent, next, { version: agent.version + 1, status: agent.status === AgentStatus.ERROR ? AgentStatus.READY : agent.status, lastError: null });
        const saved = await manager.save(agent);
        await this.recordVersion(manager, saved, caller.principal.userId);
        await this.outbox.enqueue(manager, AgentUpdated, {
          aggregateId: saved.id,
          tenantId: caller.tenantId,
          actorId: caller.principal.userId,
          payload: { agentId: saved.id, version: saved.version, model: saved.model },
        });
        return saved;
      }),
    );
  }

  /** Takes it out of use; its runs and their history stay. */
  async archive(caller: Caller, id: string): Promise<Agent> {
    return this.dataSource.transaction(async (manager) => {
      const agent = await this.manageable(caller, id, manager, true);
      agent.archivedAt = new Date();
      const saved = await manager.save(agent);
      await this.outbox.enqueue(manager, AgentArchived, {
        aggregateId: saved.id,
        tenantId: caller.tenantId,
        actorId: caller.principal.userId,
        payload: { agentId: saved.id },
      });
      return saved;
    });
  }

  /** An agent the caller may see: their own, or any of the tenant's with agents:manage; NOT_FOUND otherwise (also for archived ones). */
  async visible(caller: Caller, id: string, manager: EntityManager = this.dataSource.manager): Promise<Agent> {
    const agent = await manager.findOneBy(Agent, { id, tenantId: caller.tenantId, archivedAt: IsNull() });
    if (!agent || (agent.ownerId !== caller.principal.userId && !canManageAgents(caller.principal))) throw new NotFoundError('agent');
    return agent;
  }

  /** Visible agents by id for a plan, in one query; NOT_FOUND names the first that is not. */
  async usable(caller: Caller, ids: readonly string[]): Promise<Map<string, Agent>> {
    const rows = await this.dataSource.getRepository(Agent).findBy({ tenantId: caller.tenantId, id: In([...ids]), archivedAt: IsNull() });
    return new Map(rows.filter((agent) => agent.ownerId === caller.principal.userId || canManageAgents(caller.principal)).map((agent) => [agent.id, agent]));
  }

  async findByIds(caller: Caller, ids: readonly string[]): Promise<(Agent | null)[]> {
    const rows = await this.dataSource.getRepository(Agent).findBy({ tenantId: caller.tenantId, id: In([...ids]) });
    const visible = rows.filter((agent) => agent.ownerId === caller.principal.userId || canManageAgents(caller.principal));
    return byKeys(ids, visible, (row) => row.id);
  }

  list(caller: Caller, args: AgentsArgs): Promise<Connection<Agent>> {
    if (args.allMembers && !canManageAgents(caller.principal)) throw new ForbiddenError('errors.missing_permission', { permission: 'agents:manage' });
    const query = this.dataSource
      .getRepository(Agent)
      .createQueryBuilder('row')
      .where('row.tenant_id = :tenantId AND row.archived_at IS NULL', { tenantId: caller.tenantId });
    if (!args.allMembers) query.andWhere('row.owner_id = :ownerId', { ownerId: caller.principal.userId });
    return paginate(query, NEWEST_FIRST, args, { scope: `${caller.tenantId}:${args.allMembers ? '*' : caller.principal.userId}` });
  }

  versions(agentId: string): Promise<AgentVersion[]> {
    return this.dataSource.getRepository(AgentVersion).find({ where: { agentId }, order: { version: 'DESC' } });
  }

  async version(agentId: string, version: number): Promise<AgentVersion | null> {
    return this.dataSource.getRepository(AgentVersion).findOneBy({ agentId, version });
  }

  /** READY, BUSY while any of its tasks runs, or ERROR after a failure that will repeat. */
  async statusOf(agent: Agent): Promise<AgentStatus> {
    if (agent.status === AgentStatus.ERROR) return AgentStatus.ERROR;
    const [{ running }] = await this.dataSource.query(`SELECT count(*)::int AS running FROM agent_tasks WHERE agent_id = $1 AND status = 'running'`, [agent.id]);
    return running > 0 ? AgentStatus.BUSY : AgentStatus.READY;
  }

  async metrics(agentId: string): Promise<AgentMetrics> {
    const [tasks] = await this.dataSource.query(
      `SELECT count(DISTINCT run_id)::int AS runs,
              count(*) FILTER (WHERE status IN ('completed', 'failed'))::int AS finished,
              count(*) FILTER (WHERE status = 'completed')::int AS completed,
              avg(extract(epoch FROM finished_at - started_at) * 1000) FILTER (WHERE status = 'completed') AS mean_ms
         FROM agent_tasks WHERE agent_id = $1`,
      [agentId],
    );
    const [calls] = await this.dataSource.query(
      `SELECT count(*)::int AS calls, coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion, coalesce(sum(cost_usd), 0) AS cost
         FROM agent_model_calls WHERE agent_id = $1`,
      [agentId],
    );
    return {
      runs: tasks.runs,
      finishedTasks: tasks.finished,
      successRate: tasks.finished > 0 ? tasks.completed / tasks.finished : null,
      meanDurationMs: tasks.mean_ms === null ? null : Math.round(Number(tasks.mean_ms)),
      modelCalls: calls.calls,
      promptTokens: Number(calls.prompt),
      completionTokens: Number(calls.completion),
      costUsd: Number(calls.cost),
    };
  }

  private async manageable(caller: Caller, id: string, manager: EntityManager, lock: boolean): Promise<Agent> {
    const agent = await manager.findOne(Agent, { where: { id, tenantId: caller.tenantId, archivedAt: IsNull() }, lock: lock ? { mode: 'pessimistic_write' } : undefined });
    if (!agent || (agent.ownerId !== caller.principal.userId && !canManageAgents(caller.principal))) throw new NotFoundError('agent');
    return agent;
  }

  private checkSettings(settings: AgentSettings): void {
    if (!settings.name) throw BadUserInputError.field('name', 'validation.minLength', { constraint: 1 });
    try {
      const model = this.models.resolve(settings.model);
      if (model.spec.embeddings) throw BadUserInputError.field('model', 'errors.model_not_chat', { model: settings.model });
    } catch (error) {
      if (error instanceof UnknownModelError) throw BadUserInputError.field('model', 'errors.unknown_model', { model: settings.model });
      throw error;
    }
    const unknown = settings.tools.filter((name) => !this.tools.get(name));
    if (unknown.length) throw BadUserInputError.field('tools', 'errors.unknown_tools', { tools: unknown.join(', ') });
  }

  private async recordVersion(manager: EntityManager, agent: Agent, userId: string): Promise<void> {
    await manager.insert(AgentVersion, { agentId: agent.id, version: agent.version, config: settingsOf(agent), createdBy: userId });
  }

  private async unique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.agent_exists');
      throw error;
    }
  }
}
