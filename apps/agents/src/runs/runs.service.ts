import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull, Not } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { BadUserInputError, ConflictError, Connection, ForbiddenError, KeysetOrder, NotFoundError, RateLimitedError, paginate } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import { Agent } from '../agents/agent.entity';
import { AgentsService, Caller, canManageAgents } from '../agents/agents.service';
import type { AgentsConfig } from '../config';
import { ModelGateway, UnknownModelError } from '../models/model-gateway';
import { estimateTokens } from '../models/scripted-model';
import { AgentToolCall, ToolCallStatus } from '../approvals/tool-call.entity';
import { AgentPlanDryRun, AgentRunsArgs, CreateAgentPlanInput, PlanAgentRunInput, PlanTaskInput, StartAgentRunInput } from './dto';
import { PlanProblem, PlannedTask, criticalPathMs, executionWaves, planProblem } from './plan';
import { NewRunEvent, RunEvents } from './run-events';
import { AgentRun, FINISHED_RUN_STATUSES, RunMode, RunStatus } from './run.entity';
import { PLAN_QUEUE, PlanJob, TaskScheduler, lockAgentSlots } from './task-scheduler';
import { AgentTask, FINISHED_TASK_STATUSES, TaskStatus } from './task.entity';

/** The chat message a run answers; a run that must wait for the session's previous answer starts WAITING_TURN. */
export interface SessionTurn {
  sessionId: string;
  seq: number;
  waitTurn: boolean;
}

const NEWEST_FIRST = new KeysetOrder({
  connection: 'agents.runs',
  columns: [
    { expression: 'row.created_at', type: 'timestamp', direction: 'DESC' },
    { expression: 'row.id', type: 'uuid', direction: 'DESC' },
  ],
});

/** Used for a task's estimate until its agent has finished tasks to learn from. */
const DEFAULT_TASK_MS = 5_000;

function planProblemError(problem: PlanProblem): BadUserInputError {
  switch (problem.kind) {
    case 'cycle':
      return BadUserInputError.field('tasks', 'errors.plan_cycle', { cycle: problem.cycle.join(' → ') });
    case 'duplicate_key':
      return BadUserInputError.field('tasks', 'errors.plan_duplicate_key', { key: problem.key });
    case 'unknown_dependency':
      return BadUserInputError.field('tasks', 'errors.plan_unknown_dependency', { key: problem.key, dependency: problem.dependency });
    case 'too_many':
      return BadUserInputError.field('tasks', 'validation.arrayMaxSize', { constraint: problem.limit });
    case 'empty':
      return BadUserInputError.field('tasks', 'validation.arrayMinSize', { constraint: 1 });
  }
}

/**
 * Runs: a direct request to one agent, a plan the caller wrote, or a plan the planner writes; plans
 * wait for approval (editable and dry-runnable meanwhile) unless started at once. Everything is
 * checked before anything runs: a cycle, an unknown dependency or an agent the caller cannot use
 * is refused and names what is wrong.
 */
@Injectable()
export class RunsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly jobs: JobQueue,
    private readonly agents: AgentsService,
    private readonly scheduler: TaskScheduler,
    private readonly events: RunEvents,
    private readonly models: ModelGateway,
  ) {}

  async startDirect(caller: Caller, input: StartAgentRunInput, turn?: SessionTurn, outer?: EntityManager): Promise<AgentRun> {
    const agent = await this.agents.visible(caller, input.agentId);
    return this.createRun(
      caller,
      { mode: RunMode.DIRECT, request: input.prompt, autoStart: true, turn },
      [{ key: 'answer', title: agent.name, agentId: agent.id, prompt: input.prompt, dependsOn: [] }],
      outer,
    );
  }

  async createPlan(caller: Caller, input: CreateAgentPlanInput): Promise<AgentRun> {
    return this.createRun(caller, { mode: RunMode.ORCHESTRATED, request: input.request, autoStart: input.autoStart ?? false }, input.tasks.map(plannedTask));
  }

  /** A run in PLANNING; the plan job asks the planner model and leaves the plan for approval (or starts it). */
  async requestPlan(caller: Caller, input: PlanAgentRunInput, turn?: SessionTurn, outer?: EntityManager): Promise<AgentRun> {
    const usable = input.agentIds ? await this.agents.usable(caller, input.agentIds) : undefined;
    const candidates = input.agentIds ? input.agentIds.flatMap((id) => usable?.get(id) ?? []) : await this.ownAgents(caller);
    const missing = (input.agentIds ?? []).filter((id) => !candidates.some((agent) => agent.id === id));
    if (missing.length) throw BadUserInputError.field('agentIds', 'errors.unknown_agents', { agents: missing.join(', ') });
    if (candidates.length === 0) throw BadUserInputError.field('agentIds', 'errors.no_agents');
    const plannerModel = input.plannerModel ?? candidates[0].model;
    try {
      this.models.resolve(plannerModel);
    } catch (error) {
      if (error instanceof UnknownModelError) throw BadUserInputError.field('plannerModel', 'errors.unknown_model', { model: plannerModel });
      throw error;
    }
    const run = await this.inTransaction(outer, async (manager) => {
      const created = await manager.save(
        manager.create(AgentRun, {
          tenantId: caller.tenantId,
          userId: caller.principal.userId,
          sessionId: turn?.sessionId ?? null,
          sessionSeq: turn?.seq ?? null,
          mode: RunMode.ORCHESTRATED,
          request: input.request,
          status: turn?.waitTurn ? RunStatus.WAITING_TURN : RunStatus.PLANNING,
          plannerModel,
          candidateAgentIds: candidates.map((agent) => agent.id),
          autoStart: input.autoStart ?? false,
          planVersion: 0,
          lastSeq: 0,
          promptTokens: 0,
          completionTokens: 0,
          costUsd: 0,
        }),
      );
      await this.events.append(manager, created.id, [{ type: 'run.created', payload: { mode: created.mode, status: created.status, plannerModel } }]);
      if (created.status === RunStatus.PLANNING) await this.jobs.enqueue<PlanJob>(PLAN_QUEUE, { runId: created.id }, { tx: manager });
      return created;
    });
    if (!outer) await this.events.published(run.id);
    return run;
  }

  /** Replaces a plan that waits for approval. */
  async updatePlan(caller: Caller, runId: string, tasks: PlanTaskInput[]): Promise<AgentRun> {
    const planned = tasks.map(plannedTask);
    const agents = await this.checkPlan(caller, planned);
    const run = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedRun(manager, caller, runId);
      if (current.status !== RunStatus.AWAITING_APPROVAL) throw new ConflictError('errors.plan_not_editable', { status: current.status });
      await manager.delete(AgentTask, { runId });
      current.planVersion += 1;
      await manager.save(current);
      await this.insertTasks(manager, current, planned, agents);
      await this.events.append(manager, runId, [{ type: 'plan.updated', payload: { planVersion: current.planVersion, tasks: planned } }]);
      return current;
    });
    await this.events.published(runId);
    return run;
  }

  async approvePlan(caller: Caller, runId: string): Promise<AgentRun> {
    const run = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedRun(manager, caller, runId);
      if (current.status !== RunStatus.AWAITING_APPROVAL) throw new ConflictError('errors.plan_not_awaiting_approval', { status: current.status });
      await this.checkQueueRoom(manager, runId);
      const events: NewRunEvent[] = [{ type: 'plan.approved', payload: { planVersion: current.planVersion, approvedBy: caller.principal.userId } }];
      events.push(...(await this.scheduler.start(manager, current)));
      await this.events.append(manager, runId, events);
      return manager.findOneByOrFail(AgentRun, { id: runId });
    });
    await this.published(runId);
    return run;
  }

  async dryRun(caller: Caller, runId: string): Promise<AgentPlanDryRun> {
    await this.visible(caller, runId);
    const tasks = await this.tasksOf(runId);
    if (tasks.length === 0) throw new ConflictError('errors.plan_not_ready');
    return {
      waves: executionWaves(tasks),
      estimatedTokens: tasks.reduce((sum, task) => sum + task.estimatedTokens, 0),
      estimatedCostUsd: tasks.reduce((sum, task) => sum + task.estimatedCostUsd, 0),
      estimatedDurationMs: criticalPathMs(tasks, (key) => tasks.find((task) => task.key === key)?.estimatedMs ?? 0),
      tasks,
    };
  }

  /** Stops the run: unfinished tasks are cancelled (a running one stops at its next step), waiting calls too. */
  async cancel(caller: Caller, runId: string): Promise<AgentRun> {
    const run = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedRun(manager, caller, runId);
      if (FINISHED_RUN_STATUSES.includes(current.status)) throw new ConflictError('errors.run_finished', { status: current.status });
      const open = await manager.find(AgentTask, { where: { runId, status: Not(In([...FINISHED_TASK_STATUSES])) }, lock: { mode: 'pessimistic_write' } });
      await manager.update(AgentTask, { runId, status: Not(In([...FINISHED_TASK_STATUSES])) }, { status: TaskStatus.CANCELLED, finishedAt: new Date(), leaseOwner: null, leaseUntil: null });
      await manager.update(AgentToolCall, { runId, status: ToolCallStatus.PENDING_APPROVAL }, { status: ToolCallStatus.CANCELLED, decidedAt: new Date(), decidedBy: caller.principal.userId });
      Object.assign(current, { status: RunStatus.CANCELLED, finishedAt: new Date() });
      await manager.save(current);
      await this.scheduler.afterRunEnded(manager, current);
      await lockAgentSlots(manager, open.map((task) => task.agentId));
      for (const agentId of new Set(open.map((task) => task.agentId))) await this.scheduler.dispatchAgent(manager, agentId);
      await this.events.append(manager, runId, [
        ...open.map((task) => ({ type: 'task.cancelled', taskId: task.id, payload: { key: task.key } })),
        { type: 'run.cancelled', payload: { status: RunStatus.CANCELLED, cancelledBy: caller.principal.userId } },
      ]);
      return current;
    });
    await this.published(runId);
    return run;
  }

  /** After a transaction that changed the run committed: its followers hear of it, and queued tasks are picked up now. */
  async published(runId: string): Promise<void> {
    this.scheduler.wake();
    await this.events.published(runId);
  }

  /** A run the caller may see: their own, or any of the tenant's with agents:manage; NOT_FOUND otherwise. */
  async visible(caller: Caller, runId: string, manager: EntityManager = this.dataSource.manager): Promise<AgentRun> {
    const run = await manager.findOneBy(AgentRun, { id: runId, tenantId: caller.tenantId });
    if (!run || (run.userId !== caller.principal.userId && !canManageAgents(caller.principal))) throw new NotFoundError('agent_run');
    return run;
  }

  list(caller: Caller, args: AgentRunsArgs): Promise<Connection<AgentRun>> {
    if (args.allMembers && !canManageAgents(caller.principal)) throw new ForbiddenError('errors.missing_permission', { permission: 'agents:manage' });
    const query = this.dataSource.getRepository(AgentRun).createQueryBuilder('row').where('row.tenant_id = :tenantId', { tenantId: caller.tenantId });
    if (!args.allMembers) query.andWhere('row.user_id = :userId', { userId: caller.principal.userId });
    return paginate(query, NEWEST_FIRST, args, { scope: `${caller.tenantId}:${args.allMembers ? '*' : caller.principal.userId}` });
  }

  tasksOf(runId: string): Promise<AgentTask[]> {
    return this.dataSource.getRepository(AgentTask).find({ where: { runId }, order: { key: 'ASC' } });
  }

  /** Stores a validated plan with estimates; starts it when asked to and the agents' queues have room. */
  async createRun(
    caller: Caller,
    run: { mode: RunMode; request: string; autoStart: boolean; turn?: SessionTurn },
    planned: PlannedTask[],
    outer?: EntityManager,
  ): Promise<AgentRun> {
    const agents = await this.checkPlan(caller, planned);
    const created = await this.inTransaction(outer, async (manager) => {
      const row = await manager.save(
        manager.create(AgentRun, {
          tenantId: caller.tenantId,
          userId: caller.principal.userId,
          sessionId: run.turn?.sessionId ?? null,
          sessionSeq: run.turn?.seq ?? null,
          mode: run.mode,
          request: run.request,
          status: run.turn?.waitTurn ? RunStatus.WAITING_TURN : RunStatus.AWAITING_APPROVAL,
          plannerModel: null,
          candidateAgentIds: [...agents.keys()],
          autoStart: run.autoStart,
          planVersion: 1,
          lastSeq: 0,
          promptTokens: 0,
          completionTokens: 0,
          costUsd: 0,
        }),
      );
      await this.insertTasks(manager, row, planned, agents);
      const events: NewRunEvent[] = [{ type: 'run.created', payload: { mode: row.mode, status: row.status } }, { type: 'plan.ready', payload: { planVersion: 1, tasks: planned } }];
      if (run.autoStart && !run.turn?.waitTurn) {
        await this.checkQueueRoom(manager, row.id);
        events.push(...(await this.scheduler.start(manager, row)));
      }
      await this.events.append(manager, row.id, events);
      return manager.findOneByOrFail(AgentRun, { id: row.id });
    });
    if (!outer) await this.published(created.id);
    return created;
  }

  /** The plan's shape and its agents, before anything is stored. */
  async checkPlan(caller: Caller, planned: PlannedTask[]): Promise<Map<string, Agent>> {
    const problem = planProblem(planned);
    if (problem) throw planProblemError(problem);
    const agents = await this.agents.usable(caller, [...new Set(planned.map((task) => task.agentId))]);
    const unknown = [...new Set(planned.filter((task) => !agents.has(task.agentId)).map((task) => `${task.key}: ${task.agentId}`))];
    if (unknown.length) throw BadUserInputError.field('tasks', 'errors.unknown_agents', { agents: unknown.join(', ') });
    return agents;
  }

  /** Inserts the plan's tasks with their estimates (from each agent's finished tasks when it has some). */
  async insertTasks(manager: EntityManager, run: AgentRun, planned: PlannedTask[], agents: Map<string, Agent>): Promise<void> {
    const history: { agent_id: string; tokens: string | null; ms: string | null }[] = await manager.query(
      `SELECT agent_id, avg(prompt_tokens + completion_tokens) AS tokens, avg(extract(epoch FROM finished_at - started_at) * 1000) AS ms
         FROM agent_tasks WHERE agent_id = ANY($1::uuid[]) AND status = 'completed' GROUP BY agent_id`,
      [[...agents.keys()]],
    );
    const learned = new Map(history.map((row) => [row.agent_id, row]));
    await manager.insert(
      AgentTask,
      planned.map((task) => {
        const agent = agents.get(task.agentId) as Agent;
        const past = learned.get(agent.id);
        const tokens = past?.tokens ? Math.round(Number(past.tokens)) : estimateTokens(agent.systemPrompt.length + task.prompt.length) + agent.maxOutputTokens;
        const spec = this.models.resolve(agent.model).spec;
        return {
          runId: run.id,
          tenantId: run.tenantId,
          key: task.key,
          title: task.title,
          prompt: task.prompt,
          agentId: agent.id,
          agentVersion: agent.version,
          dependsOn: [...new Set(task.dependsOn)],
          status: TaskStatus.PENDING,
          attempt: 0,
          transcript: [],
          turns: 0,
          estimatedTokens: tokens,
          estimatedCostUsd: (tokens * (spec.inputUsdPerMTok + spec.outputUsdPerMTok)) / 2 / 1e6,
          estimatedMs: past?.ms ? Math.round(Number(past.ms)) : DEFAULT_TASK_MS,
          promptTokens: 0,
          completionTokens: 0,
          costUsd: 0,
        };
      }),
    );
  }

  /**
   * Backpressure: a run whose agents already hold AGENTS_QUEUE_LIMIT waiting tasks is refused
   * (RATE_LIMITED with a retry hint), after waiting up to AGENTS_QUEUE_WAIT_SECONDS for room.
   */
  private async checkQueueRoom(manager: EntityManager, runId: string): Promise<void> {
    const deadline = Date.now() + this.config.AGENTS_QUEUE_WAIT_SECONDS * 1000;
    for (;;) {
      const [{ fullest }] = await manager.query(
        `SELECT coalesce(max(waiting), 0)::int AS fullest FROM (
           SELECT count(*) AS waiting FROM agent_tasks
            WHERE agent_id IN (SELECT agent_id FROM agent_tasks WHERE run_id = $1) AND status = 'queued' AND run_id <> $1
            GROUP BY agent_id) AS queues`,
        [runId],
      );
      if (fullest < this.config.AGENTS_QUEUE_LIMIT) return;
      if (Date.now() >= deadline) throw new RateLimitedError(Math.max(1, Math.ceil(this.config.AGENTS_TASK_RETRY_DELAY_SECONDS)));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The caller's transaction when there is one (a chat message and its run commit together), else a new one. */
  private inTransaction<T>(outer: EntityManager | undefined, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return outer ? work(outer) : this.dataSource.transaction(work);
  }

  private async ownAgents(caller: Caller): Promise<Agent[]> {
    return this.dataSource.getRepository(Agent).find({ where: { tenantId: caller.tenantId, ownerId: caller.principal.userId, archivedAt: IsNull() }, order: { createdAt: 'ASC' }, take: 20 });
  }

  private async lockedRun(manager: EntityManager, caller: Caller, runId: string): Promise<AgentRun> {
    await this.visible(caller, runId, manager);
    return manager.findOneOrFail(AgentRun, { where: { id: runId }, lock: { mode: 'pessimistic_write' } });
  }
}

function plannedTask(task: PlanTaskInput): PlannedTask {
  return { key: task.key, title: task.title?.trim() || task.key, agentId: task.agentId, prompt: task.prompt, dependsOn: task.dependsOn ?? [] };
}
