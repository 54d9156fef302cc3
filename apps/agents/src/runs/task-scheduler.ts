import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AgentRunFinished, OutboxWriter } from '@multipult/events';
import { JobQueue } from '@multipult/jobs';
import { dependentsOf } from './plan';
import { NewRunEvent, RunEvents } from './run-events';
import { AgentRun, FINISHED_RUN_STATUSES, RunMode, RunStatus } from './run.entity';
import { AgentTask, FINISHED_TASK_STATUSES, TaskStatus } from './task.entity';

/** The durable job that runs (or resumes) one task. */
export const TASK_QUEUE = 'agents.task';
/** The durable job in which the planner writes an orchestrated run's plan. */
export const PLAN_QUEUE = 'agents.plan';

export interface TaskJob {
  taskId: string;
}

export interface PlanJob {
  runId: string;
}

/**
 * Serialises the slot decisions of agents' tasks across replicas (held to the end of the
 * transaction), taken in id order so two transactions never wait on each other's agents.
 */
export async function lockAgentSlots(manager: EntityManager, agentIds: string[]): Promise<void> {
  for (const agentId of [...new Set(agentIds)].sort()) {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('agents.slots:' || $1, 0))`, [agentId]);
  }
}

/**
 * Locks a run's row. Every transaction that changes a run's tasks, calls or events takes it first
 * (then task rows, then agent slots), so concurrent work on one run queues up instead of deadlocking.
 */
export async function lockRun(manager: EntityManager, runId: string): Promise<void> {
  await manager.query(`SELECT id FROM agent_runs WHERE id = $1 FOR UPDATE`, [runId]);
}

/** A transaction PostgreSQL aborted to break a deadlock or a serialization conflict: worth doing again. */
export function isTransactionConflict(error: unknown): boolean {
  const code = (error as { code?: string; driverError?: { code?: string } })?.driverError?.code ?? (error as { code?: string })?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Moves runs and tasks through their states inside the caller's transaction, and answers the run
 * events that describe what it did. A task becomes QUEUED when everything it depends on completed;
 * a job picks it up when its agent has a free slot; finishing a task queues its dependents (or
 * skips them, after a failure) and finishes the run once every task is final, and after it commits
 * the freed slots go to the agents' next queued tasks.
 */
@Injectable()
export class TaskScheduler {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly jobs: JobQueue,
    private readonly outbox: OutboxWriter,
    private readonly events: RunEvents,
  ) {}

  /** The job for a queued task; one waiting job per task (`short` policy), so queuing twice is harmless. */
  async enqueue(manager: EntityManager, taskId: string, startAfterSeconds?: number): Promise<void> {
    await this.jobs.enqueue<TaskJob>(TASK_QUEUE, { taskId }, { tx: manager, singletonKey: taskId, startAfter: startAfterSeconds });
  }

  /** An approved plan starts: tasks without dependencies are queued, the others wait for theirs. */
  async start(manager: EntityManager, run: AgentRun): Promise<NewRunEvent[]> {
    await manager.update(AgentRun, { id: run.id }, { status: RunStatus.RUNNING, startedAt: new Date() });
    const tasks = await manager.find(AgentTask, { where: { runId: run.id }, order: { key: 'ASC' } });
    const events: NewRunEvent[] = [{ type: 'run.started', payload: { taskCount: tasks.length } }];
    const ready = tasks.filter((task) => task.dependsOn.length === 0);
    await manager.update(AgentTask, { runId: run.id }, { status: TaskStatus.PENDING });
    events.push(...(await this.queue(manager, ready)));
    return events;
  }

  /**
   * After `task` reached a final status in this transaction: marks dependents whose dependencies
   * all completed QUEUED, skips everything downstream of a failure, and finishes the run when
   * nothing is left. Answers the events, and the agents whose queues to dispatch once this commits
   * (dispatchAfterCommit): taking agent slot locks here would hold them for the whole transaction.
   */
  async afterTaskFinished(manager: EntityManager, task: AgentTask): Promise<{ events: NewRunEvent[]; dispatch: string[] }> {
    const events: NewRunEvent[] = [];
    const dispatch = new Set([task.agentId]);
    const tasks = await manager.find(AgentTask, { where: { runId: task.runId }, order: { id: 'ASC' }, lock: { mode: 'pessimistic_write' } });
    if (task.status === TaskStatus.COMPLETED) {
      const completed = new Set(tasks.filter((candidate) => candidate.status === TaskStatus.COMPLETED).map((candidate) => candidate.key));
      const ready = tasks.filter(
        (candidate) => candidate.status === TaskStatus.PENDING && candidate.dependsOn.includes(task.key) && candidate.dependsOn.every((key) => completed.has(key)),
      );
      if (ready.length) {
        await manager.update(AgentTask, { id: In(ready.map((candidate) => candidate.id)) }, { status: TaskStatus.QUEUED, queuedAt: new Date() });
        for (const candidate of ready) {
          candidate.status = TaskStatus.QUEUED;
          dispatch.add(candidate.agentId);
          events.push({ type: 'task.queued', taskId: candidate.id, payload: { key: candidate.key, agentId: candidate.agentId } });
        }
      }
    } else {
      const downstream = new Set(dependentsOf(tasks, task.key));
      const skipped = tasks.filter((candidate) => downstream.has(candidate.key) && candidate.status === TaskStatus.PENDING);
      if (skipped.length) {
        await manager.update(AgentTask, { id: In(skipped.map((candidate) => candidate.id)) }, { status: TaskStatus.SKIPPED, finishedAt: new Date(), error: `skipped: ${task.key} ${task.status}` });
        for (const candidate of skipped) {
          candidate.status = TaskStatus.SKIPPED;
          events.push({ type: 'task.skipped', taskId: candidate.id, payload: { key: candidate.key, because: task.key } });
        }
      }
    }
    const current = tasks.map((candidate) => (candidate.id === task.id ? task : candidate));
    if (current.every((candidate) => FINISHED_TASK_STATUSES.includes(candidate.status))) events.push(...(await this.finishRun(manager, task.runId, current)));
    return { events, dispatch: [...dispatch] };
  }

  /**
   * Gives the agents' free slots to their oldest queued tasks, each agent in a short transaction of
   * its own, after the transaction that freed the slots or queued the tasks committed. Should this
   * replica die before, the recovery pass dispatches them.
   */
  async dispatchAfterCommit(agentIds: string[]): Promise<void> {
    for (const agentId of [...new Set(agentIds)].sort()) await this.dataSource.transaction((manager) => this.dispatchAgent(manager, agentId));
    this.wake();
  }

  /** A task whose calls were decided goes back to its agent's queue, to resume where it stopped. */
  async requeue(manager: EntityManager, task: AgentTask): Promise<NewRunEvent[]> {
    await manager.update(AgentTask, { id: task.id }, { status: TaskStatus.QUEUED, queuedAt: new Date() });
    await this.dispatchAgent(manager, task.agentId);
    return [{ type: 'task.queued', taskId: task.id, payload: { key: task.key, agentId: task.agentId, resumes: true } }];
  }

  /** Enqueues the agent's oldest queued tasks that fit its free slots. */
  async dispatchAgent(manager: EntityManager, agentId: string): Promise<void> {
    await lockAgentSlots(manager, [agentId]);
    const waiting: { id: string }[] = await manager.query(
      `SELECT t.id FROM agent_tasks t
        WHERE t.agent_id = $1 AND t.status = 'queued' AND (t.not_before IS NULL OR t.not_before <= now())
        ORDER BY t.queued_at, t.id
        LIMIT greatest(0, (SELECT a.concurrency_limit FROM agents a WHERE a.id = $1)
                          - (SELECT count(*) FROM agent_tasks r WHERE r.agent_id = $1 AND r.status = 'running' AND r.lease_until > now()))`,
      [agentId],
    );
    for (const { id } of waiting) await this.enqueue(manager, id);
  }

  /** Ends a run whose tasks are all final: completed when every task completed, failed otherwise. */
  async finishRun(manager: EntityManager, runId: string, tasks: AgentTask[]): Promise<NewRunEvent[]> {
    const run = await manager.findOne(AgentRun, { where: { id: runId }, lock: { mode: 'pessimistic_write' } });
    if (!run || FINISHED_RUN_STATUSES.includes(run.status)) return [];
    const failed = tasks.filter((task) => task.status !== TaskStatus.COMPLETED);
    const dependedOn = new Set(tasks.flatMap((task) => task.dependsOn));
    const finals = tasks.filter((task) => !dependedOn.has(task.key) && task.status === TaskStatus.COMPLETED);
    const [totals] = await manager.query(
      `SELECT coalesce(sum(prompt_tokens), 0) AS prompt, coalesce(sum(completion_tokens), 0) AS completion, coalesce(sum(cost_usd), 0) AS cost FROM agent_model_calls WHERE run_id = $1`,
      [runId],
    );
    const outcome = failed.length ? RunStatus.FAILED : RunStatus.COMPLETED;
    Object.assign(run, {
      status: outcome,
      finishedAt: new Date(),
      result: finals.length ? finals.map((task) => (finals.length > 1 ? `## ${task.title}\n\n${task.result ?? ''}` : (task.result ?? ''))).join('\n\n') : null,
      error: failed.length ? failed.map((task) => `${task.key}: ${task.status}${task.error ? ` (${task.error})` : ''}`).join('; ') : null,
      promptTokens: Number(totals.prompt),
      completionTokens: Number(totals.completion),
      costUsd: Number(totals.cost),
    });
    await manager.save(run);
    await this.afterRunEnded(manager, run);
    await this.outbox.enqueue(manager, AgentRunFinished, {
      aggregateId: run.id,
      tenantId: run.tenantId,
      actorId: run.userId,
      payload: {
        runId: run.id,
        userId: run.userId,
        outcome,
        taskCount: tasks.length,
        failedTasks: tasks.filter((task) => task.status === TaskStatus.FAILED).length,
        promptTokens: run.promptTokens,
        completionTokens: run.completionTokens,
        costUsd: run.costUsd,
      },
    });
    return [
      {
        type: outcome === RunStatus.COMPLETED ? 'run.completed' : 'run.failed',
        payload: {
          status: outcome,
          result: run.result,
          error: run.error,
          tasks: tasks.map((task) => ({ key: task.key, status: task.status, error: task.error })),
          promptTokens: run.promptTokens,
          completionTokens: run.completionTokens,
          costUsd: run.costUsd,
        },
      },
    ];
  }

  /**
   * A chat run ended (completed, failed or cancelled): its answer joins the session, and the
   * session's next waiting message starts. Its followers see the start with its first task event.
   */
  async afterRunEnded(manager: EntityManager, run: AgentRun): Promise<void> {
    if (!run.sessionId) return;
    const [[session]]: [{ last_seq: number }[], number] = await manager.query(
      `UPDATE agent_chat_sessions SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq`,
      [run.sessionId],
    );
    const seq = Number(session.last_seq);
    const answer = run.status === RunStatus.COMPLETED ? (run.result ?? '') : `(${run.status}${run.error ? `: ${run.error}` : ''})`;
    await manager.query(`INSERT INTO agent_chat_messages (session_id, seq, role, content, run_id) VALUES ($1, $2, 'assistant', $3, $4)`, [run.sessionId, seq, answer, run.id]);
    const [{ active }] = await manager.query(
      `SELECT count(*)::int AS active FROM agent_runs WHERE session_id = $1 AND id <> $2 AND status IN ('planning', 'awaiting_approval', 'running')`,
      [run.sessionId, run.id],
    );
    if (active > 0) return;
    const next = await manager.findOne(AgentRun, {
      where: { sessionId: run.sessionId, status: RunStatus.WAITING_TURN },
      order: { sessionSeq: 'ASC' },
      lock: { mode: 'pessimistic_write' },
    });
    if (!next) return;
    if (next.mode === RunMode.ORCHESTRATED) {
      await manager.update(AgentRun, { id: next.id }, { status: RunStatus.PLANNING });
      await this.jobs.enqueue<PlanJob>(PLAN_QUEUE, { runId: next.id }, { tx: manager });
      await this.events.append(manager, next.id, [{ type: 'run.planning', payload: { status: RunStatus.PLANNING } }]);
    } else {
      await this.events.append(manager, next.id, await this.start(manager, next));
    }
  }

  /** Has this replica's task worker look for jobs now (after the transaction that queued tasks committed). */
  wake(): void {
    this.jobs.wake(TASK_QUEUE);
  }

  private async queue(manager: EntityManager, tasks: AgentTask[]): Promise<NewRunEvent[]> {
    if (tasks.length === 0) return [];
    await lockAgentSlots(manager, tasks.map((task) => task.agentId));
    await manager.update(AgentTask, { id: In(tasks.map((task) => task.id)) }, { status: TaskStatus.QUEUED, queuedAt: new Date() });
    for (const agentId of new Set(tasks.map((task) => task.agentId))) await this.dispatchAgent(manager, agentId);
    return tasks.map((task) => ({ type: 'task.queued', taskId: task.id, payload: { key: task.key, agentId: task.agentId } }));
  }
}
