import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { hasPermission } from '@multipult/auth';
import { APP_CONFIG } from '@multipult/config';
import { ApprovalExpiring, OutboxWriter } from '@multipult/events';
import { ConflictError, ForbiddenError, NotFoundError } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import { Caller, canManageAgents } from '../agents/agents.service';
import type { AgentsConfig } from '../config';
import { NewRunEvent, RunEvents } from '../runs/run-events';
import { AgentRun } from '../runs/run.entity';
import { TaskScheduler, lockRun } from '../runs/task-scheduler';
import { AgentTask, TaskStatus } from '../runs/task.entity';
import { callSummary } from './tool-call-processor';
import { AgentToolCall, ToolCallStatus } from './tool-call.entity';

const DEADLINES_QUEUE = 'agents.approval-deadlines';

/**
 * Decisions on tool calls that wait: one at a time, a whole class within a run, or the deadline's
 * (rejected when nobody decided, with a warning shortly before). A task resumes once none of its
 * calls waits any more.
 */
@Injectable()
export class ApprovalsService implements OnModuleInit {
  private readonly logger = new Logger(ApprovalsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly jobs: JobQueue,
    private readonly scheduler: TaskScheduler,
    private readonly events: RunEvents,
    private readonly outbox: OutboxWriter,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.defineRecurring({
      name: DEADLINES_QUEUE,
      everySeconds: this.config.AGENTS_APPROVAL_CHECK_SECONDS,
      handler: () => this.enforceDeadlines(),
    });
  }

  async decide(caller: Caller, toolCallId: string, approve: boolean, note: string | undefined): Promise<AgentToolCall> {
    let runId = '';
    const found = await this.dataSource.getRepository(AgentToolCall).findOneBy({ id: toolCallId, tenantId: caller.tenantId });
    if (!found) throw new NotFoundError('tool_call');
    const decided = await this.dataSource.transaction(async (manager) => {
      await this.decidable(manager, caller, found.runId);
      const call = await manager.findOneOrFail(AgentToolCall, { where: { id: toolCallId }, lock: { mode: 'pessimistic_write' } });
      if (call.status !== ToolCallStatus.PENDING_APPROVAL) throw new ConflictError('errors.tool_call_decided', { status: call.status });
      runId = call.runId;
      Object.assign(call, {
        status: approve ? ToolCallStatus.APPROVED : ToolCallStatus.REJECTED,
        decidedBy: caller.principal.userId,
        decidedAt: new Date(),
        decisionNote: note?.trim() || null,
        output: approve ? null : 'rejected',
      });
      await manager.save(call);
      const events: NewRunEvent[] = [
        { type: 'approval.decided', taskId: call.taskId, payload: { toolCallId: call.id, tool: call.tool, approved: approve, decidedBy: caller.principal.userId, note: call.decisionNote } },
      ];
      events.push(...(await this.resumeIfDecided(manager, [call.taskId])));
      await this.events.append(manager, call.runId, events);
      return call;
    });
    this.scheduler.wake();
    await this.events.published(runId);
    return decided;
  }

  /** Approves every waiting call of the class in the run, and the class's later calls in the run as they come. */
  async approveClass(caller: Caller, runId: string, approvalClass: string): Promise<AgentToolCall[]> {
    const approved = await this.dataSource.transaction(async (manager) => {
      await this.decidable(manager, caller, runId);
      await manager.query(
        `INSERT INTO agent_class_approvals (run_id, approval_class, decided_by) VALUES ($1, $2, $3) ON CONFLICT (run_id, approval_class) DO NOTHING`,
        [runId, approvalClass, caller.principal.userId],
      );
      const calls = await manager.find(AgentToolCall, {
        where: { runId, approvalClass, status: ToolCallStatus.PENDING_APPROVAL },
        lock: { mode: 'pessimistic_write' },
      });
      const now = new Date();
      for (const call of calls) Object.assign(call, { status: ToolCallStatus.APPROVED, decidedBy: caller.principal.userId, decidedAt: now, decisionNote: 'class' });
      await manager.save(calls);
      const events: NewRunEvent[] = [{ type: 'approval.class_approved', payload: { approvalClass, decidedBy: caller.principal.userId, toolCallIds: calls.map((call) => call.id) } }];
      events.push(...(await this.resumeIfDecided(manager, [...new Set(calls.map((call) => call.taskId))])));
      await this.events.append(manager, runId, events);
      return calls;
    });
    this.scheduler.wake();
    await this.events.published(runId);
    return approved;
  }

  /** Calls of a run, or the caller's calls waiting for a decision across runs, oldest first. */
  async list(caller: Caller, filter: { runId?: string; pendingOnly: boolean }): Promise<AgentToolCall[]> {
    const query = this.dataSource
      .getRepository(AgentToolCall)
      .createQueryBuilder('call')
      .innerJoin(AgentRun, 'run', 'run.id = call.run_id')
      .where('call.tenant_id = :tenantId', { tenantId: caller.tenantId })
      .orderBy('call.created_at', 'ASC')
      .addOrderBy('call.id', 'ASC')
      .take(500);
    if (!canManageAgents(caller.principal)) query.andWhere('run.user_id = :userId', { userId: caller.principal.userId });
    if (filter.runId) query.andWhere('call.run_id = :runId', { runId: filter.runId });
    if (filter.pendingOnly) query.andWhere('call.status = :status', { status: ToolCallStatus.PENDING_APPROVAL });
    return query.getMany();
  }

  /** Rejects calls past their deadline and warns about those close to it, a run per transaction (see lockRun). */
  async enforceDeadlines(): Promise<void> {
    const due: { run_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT run_id FROM agent_tool_calls WHERE status = 'pending_approval' AND expires_at <= now() LIMIT 200`,
    );
    for (const { run_id: runId } of due) {
      await this.expire(runId);
      this.scheduler.wake();
      await this.events.published(runId);
    }
    for (const runId of await this.warnBeforeDeadlines()) await this.events.published(runId);
  }

  private async expire(runId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await lockRun(manager, runId);
      const calls = await manager
        .getRepository(AgentToolCall)
        .createQueryBuilder('call')
        .setLock('pessimistic_write')
        .where('call.run_id = :runId AND call.status = :status AND call.expires_at <= now()', { runId, status: ToolCallStatus.PENDING_APPROVAL })
        .getMany();
      if (calls.length === 0) return;
      const now = new Date();
      for (const call of calls) Object.assign(call, { status: ToolCallStatus.EXPIRED, decidedAt: now, decisionNote: 'expired', output: 'expired' });
      await manager.save(calls);
      const events: NewRunEvent[] = calls.map((call) => ({ type: 'approval.expired', taskId: call.taskId, payload: { toolCallId: call.id, tool: call.tool, risk: call.risk } }));
      events.push(...(await this.resumeIfDecided(manager, [...new Set(calls.map((call) => call.taskId))])));
      await this.events.append(manager, runId, events);
    });
  }

  private async warnBeforeDeadlines(): Promise<string[]> {
    if (this.config.AGENTS_APPROVAL_WARNING_SECONDS <= 0) return [];
    return this.dataSource.transaction(async (manager) => {
      // Only the calls' own rows and the runs' event logs are written; runs are locked in id order first (see lockRun).
      const runs: { run_id: string }[] = await manager.query(
        `SELECT DISTINCT run_id FROM agent_tool_calls WHERE status = 'pending_approval' AND warned_at IS NULL AND expires_at <= now() + make_interval(secs => $1) ORDER BY run_id LIMIT 200`,
        [this.config.AGENTS_APPROVAL_WARNING_SECONDS],
      );
      for (const { run_id: runId } of runs) await lockRun(manager, runId);
      const calls: (AgentToolCall & { userId: string; agentName: string })[] = await manager.query(
        `SELECT c.id, c.run_id AS "runId", c.task_id AS "taskId", c.tenant_id AS "tenantId", c.tool, c.arguments, c.risk, c.expires_at AS "expiresAt",
                r.user_id AS "userId", a.name AS "agentName"
           FROM agent_tool_calls c JOIN agent_runs r ON r.id = c.run_id JOIN agent_tasks t ON t.id = c.task_id JOIN agents a ON a.id = t.agent_id
          WHERE c.status = 'pending_approval' AND c.warned_at IS NULL AND c.expires_at <= now() + make_interval(secs => $1) AND c.run_id = ANY($2::uuid[])
          ORDER BY c.expires_at
          FOR UPDATE OF c`,
        [this.config.AGENTS_APPROVAL_WARNING_SECONDS, runs.map((run) => run.run_id)],
      );
      if (calls.length === 0) return [];
      await manager.query(`UPDATE agent_tool_calls SET warned_at = now() WHERE id = ANY($1::uuid[])`, [calls.map((call) => call.id)]);
      for (const call of calls) {
        const expiresAt = new Date(call.expiresAt as Date).toISOString();
        await this.outbox.enqueue(manager, ApprovalExpiring, {
          aggregateId: call.id,
          tenantId: call.tenantId,
          actorId: null,
          payload: {
            toolCallId: call.id,
            runId: call.runId,
            userId: call.userId,
            agentName: call.agentName,
            tool: call.tool,
            risk: call.risk === 'high' ? 'high' : 'medium',
            summary: callSummary(call.tool, call.arguments),
            expiresAt,
          },
        });
      }
      for (const [runId, ofRun] of groupBy(calls, (call) => call.runId)) {
        await this.events.append(
          manager,
          runId,
          ofRun.map((call) => ({ type: 'approval.expiring', taskId: call.taskId, payload: { toolCallId: call.id, tool: call.tool, expiresAt: new Date(call.expiresAt as Date).toISOString() } })),
        );
      }
      return [...new Set(calls.map((call) => call.runId))];
    });
  }

  /** Queues again each waiting task none of whose calls waits any more. */
  private async resumeIfDecided(manager: EntityManager, taskIds: string[]): Promise<NewRunEvent[]> {
    if (taskIds.length === 0) return [];
    const tasks = await manager.find(AgentTask, { where: { id: In(taskIds), status: TaskStatus.WAITING_APPROVAL }, lock: { mode: 'pessimistic_write' } });
    const events: NewRunEvent[] = [];
    for (const task of tasks) {
      const [{ waiting }] = await manager.query(`SELECT count(*)::int AS waiting FROM agent_tool_calls WHERE task_id = $1 AND status = 'pending_approval'`, [task.id]);
      if (waiting === 0) events.push(...(await this.scheduler.requeue(manager, task)));
    }
    return events;
  }

  /** The run must be the caller's (or any, with agents:manage), and deciding needs agents:approve; locks the run first (see lockRun). */
  private async decidable(manager: EntityManager, caller: Caller, runId: string): Promise<AgentRun> {
    const run = await manager.findOne(AgentRun, { where: { id: runId, tenantId: caller.tenantId }, lock: { mode: 'pessimistic_write' } });
    if (!run || (run.userId !== caller.principal.userId && !canManageAgents(caller.principal))) throw new NotFoundError('agent_run');
    if (!hasPermission(caller.principal.permissions, 'agents:approve')) throw new ForbiddenError('errors.missing_permission', { permission: 'agents:approve' });
    return run;
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
