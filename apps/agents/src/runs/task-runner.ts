import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { ChatCompletionMessageParam, ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { JobQueue, RunningJob } from '@multipult/jobs';
import { counter, histogram } from '@multipult/observability';
import { AgentVersion } from '../agents/agent-version.entity';
import { AgentSettings, AgentStatus } from '../agents/agent.entity';
import { ToolCallProcessor } from '../approvals/tool-call-processor';
import { Conversation } from '../chat/conversation';
import { MEMORY_QUEUE, MemoryStore } from '../memory/memory-store';
import type { AgentsConfig } from '../config';
import { ChatResult, ModelError, ModelGateway, UnknownModelError } from '../models/model-gateway';
import { estimateTokens } from '../models/scripted-model';
import { ToolRegistry } from '../tools/tool-registry';
import { AgentModelCall } from './model-call.entity';
import { NewRunEvent, RunEvents } from './run-events';
import { AgentRun, RunMode, RunStatus } from './run.entity';
import { TASK_QUEUE, TaskJob, TaskScheduler, isTransactionConflict, lockAgentSlots, lockRun } from './task-scheduler';
import { AgentTask, TaskStatus } from './task.entity';

/** Streamed text is stored and sent as message.delta events at most this often per task. */
const DELTA_FLUSH_MS = 100;

class LeaseLostError extends Error {}

/** Why a task stops for good (as opposed to a transient failure that is retried). */
class TaskFailure extends Error {
  constructor(
    message: string,
    readonly eventType = 'task.failed',
    readonly agentError = false,
  ) {
    super(message);
  }
}

/** What a claimed task runs with. */
export interface Claim {
  task: AgentTask;
  run: AgentRun;
  settings: AgentSettings;
  lease: string;
}

/**
 * Runs one task as a durable job: claims it under its agent's concurrency limit with a lease, then
 * alternates model calls and tool calls, storing the transcript after every step, so a task whose
 * replica died resumes from its last stored step (never repeating a model call that was stored, and
 * never completing twice: completion is conditional on holding the lease).
 */
@Injectable()
export class TaskRunner implements OnModuleInit {
  private readonly logger = new Logger(TaskRunner.name);
  private readonly outcomes = counter({ name: 'agents_tasks_total', help: 'Task attempts by outcome', labelNames: ['outcome'] as const });
  private readonly overhead = histogram({
    name: 'agents_task_overhead_seconds',
    help: 'Time a task spends outside model calls (claiming, storing, scheduling)',
    labelNames: [] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly jobs: JobQueue,
    private readonly scheduler: TaskScheduler,
    private readonly events: RunEvents,
    private readonly models: ModelGateway,
    private readonly tools: ToolRegistry,
    private readonly toolCalls: ToolCallProcessor,
    private readonly conversation: Conversation,
    private readonly memory: MemoryStore,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.define<TaskJob>({
      name: TASK_QUEUE,
      policy: 'short',
      handler: (job) => this.handle(job),
      concurrency: this.config.AGENTS_TASK_CONCURRENCY,
      // Transient model failures are retried by the task itself; these retries cover the database or Redis failing.
      retryLimit: 5,
      retryDelaySeconds: 1,
      expireInSeconds: 24 * 3600,
    });
  }

  async handle(job: RunningJob<TaskJob>): Promise<void> {
    const started = performance.now();
    const claim = await this.claim(job.data.taskId);
    if (!claim) return;
    const controller = new AbortController();
    const abort = () => controller.abort(new LeaseLostError('cancelled'));
    job.signal.addEventListener('abort', abort, { once: true });
    const renewal = setInterval(() => void this.renew(claim, controller), (this.config.AGENTS_TASK_LEASE_SECONDS * 1000) / 3);
    let modelMs = 0;
    try {
      const outcome = await this.work(claim, controller.signal, (ms) => (modelMs += ms));
      this.outcomes.inc({ outcome });
    } catch (error) {
      if (controller.signal.aborted || error instanceof LeaseLostError) {
        this.outcomes.inc({ outcome: 'released' });
        return;
      }
      if (isTransactionConflict(error)) {
        await this.release(claim);
        this.outcomes.inc({ outcome: 'conflict' });
        return;
      }
      await this.failOrRetry(claim, error as Error);
    } finally {
      clearInterval(renewal);
      job.signal.removeEventListener('abort', abort);
      this.overhead.observe(Math.max(0, performance.now() - started - modelMs) / 1000);
    }
  }

  /**
   * Takes the task if it is queued (or running under a lapsed lease: its replica died) and its
   * agent has a free slot; otherwise leaves it for the agent's next free slot.
   */
  private async claim(taskId: string): Promise<Claim | null> {
    const lease = randomUUID();
    const runOf = await this.dataSource.getRepository(AgentTask).findOne({ where: { id: taskId }, select: { id: true, runId: true } });
    if (!runOf) return null;
    const claimed = await this.dataSource.transaction(async (manager) => {
      await lockRun(manager, runOf.runId);
      const task = await manager.findOne(AgentTask, { where: { id: taskId }, lock: { mode: 'pessimistic_write' } });
      if (!task) return null;
      const resumable = task.status === TaskStatus.QUEUED || (task.status === TaskStatus.RUNNING && (task.leaseUntil?.getTime() ?? 0) < Date.now());
      if (!resumable) return null;
      if (task.notBefore && task.notBefore.getTime() > Date.now()) {
        await this.scheduler.enqueue(manager, task.id, (task.notBefore.getTime() - Date.now()) / 1000);
        return null;
      }
      await lockAgentSlots(manager, [task.agentId]);
      const [{ free }] = await manager.query(
        `SELECT a.concurrency_limit - (SELECT count(*) FROM agent_tasks r WHERE r.agent_id = a.id AND r.status = 'running' AND r.lease_until > now() AND r.id <> $2) AS free
           FROM agents a WHERE a.id = $1`,
        [task.agentId, task.id],
      );
      if (Number(free) <= 0) return null;
      const run = await manager.findOneByOrFail(AgentRun, { id: task.runId });
      if (run.status !== RunStatus.RUNNING) return null;
      const version = await manager.findOneByOrFail(AgentVersion, { agentId: task.agentId, version: task.agentVersion });
      const resumed = task.status === TaskStatus.RUNNING;
      await manager.query(
        `UPDATE agent_tasks SET status = 'running', lease_owner = $2, lease_until = now() + make_interval(secs => $3), started_at = coalesce(started_at, now()), not_before = NULL WHERE id = $1`,
        [task.id, lease, this.config.AGENTS_TASK_LEASE_SECONDS],
      );
      await this.events.append(manager, run.id, [
        { type: resumed ? 'task.resumed' : 'task.started', taskId: task.id, payload: { key: task.key, agentId: task.agentId, agentVersion: task.agentVersion, attempt: task.attempt } },
      ]);
      return { task: { ...task, status: TaskStatus.RUNNING }, run, settings: version.config, lease };
    });
    if (claimed) await this.events.published(claimed.run.id);
    return claimed;
  }

  private async renew(claim: Claim, controller: AbortController): Promise<void> {
    try {
      const [, renewed] = await this.dataSource.query(
        `UPDATE agent_tasks SET lease_until = now() + make_interval(secs => $3) WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
        [claim.task.id, claim.lease, this.config.AGENTS_TASK_LEASE_SECONDS],
      );
      if (renewed === 0) controller.abort(new LeaseLostError('lease lost'));
    } catch (error) {
      this.logger.warn(`lease of task ${claim.task.id} not renewed: ${(error as Error).message}`);
    }
  }

  /** Model turns and tool calls until the model answers without tools, a call waits for a decision, or a limit is reached. */
  private async work(claim: Claim, signal: AbortSignal, modelTime: (ms: number) => void): Promise<string> {
    const { task, settings } = claim;
    const transcript: ChatCompletionMessageParam[] = task.transcript.length ? [...task.transcript] : await this.openingMessages(claim);
    const toolDefinitions = settings.tools.length ? this.tools.definitions(settings.tools) : undefined;
    for (;;) {
      signal.throwIfAborted();
      const last = transcript.at(-1);
      if (last?.role === 'assistant' && last.tool_calls?.length) {
        const answered = new Set(transcript.filter((message) => message.role === 'tool').map((message) => (message as { tool_call_id: string }).tool_call_id));
        const open = last.tool_calls.filter((call) => !answered.has(call.id)) as ChatCompletionMessageToolCall[];
        if (open.length) {
          const outcome = await this.toolCalls.process(claim, open, signal);
          if (outcome.kind === 'waiting') {
            await this.waitForApproval(claim);
            return 'waiting_approval';
          }
          transcript.push(...outcome.messages);
          await this.store(claim, { transcript });
          continue;
        }
      } else if (last?.role === 'assistant') {
        await this.complete(claim, typeof last.content === 'string' ? last.content : '');
        return 'completed';
      }
      if (task.turns >= this.config.AGENTS_MAX_TURNS_PER_TASK) throw new TaskFailure(`stopped after ${task.turns} model calls (AGENTS_MAX_TURNS_PER_TASK)`);
      await this.checkBudget(claim, transcript);
      const before = performance.now();
      const answer = await this.callModel(claim, transcript, toolDefinitions, signal);
      modelTime(performance.now() - before);
      task.turns += 1;
      transcript.push({
        role: 'assistant',
        content: answer.content,
        ...(answer.toolCalls.length
          ? { tool_calls: answer.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })) }
          : {}),
      });
      if (answer.toolCalls.length) {
        await this.recordCall(claim, answer, transcript);
        continue;
      }
      // The final answer: stored and completed in one transaction.
      await this.recordCall(claim, answer, transcript, answer.content ?? '');
      return 'completed';
    }
  }

  private async openingMessages({ task, run, settings }: Claim): Promise<ChatCompletionMessageParam[]> {
    const dependencies = task.dependsOn.length
      ? await this.dataSource.getRepository(AgentTask).find({ where: task.dependsOn.map((key) => ({ runId: run.id, key })), order: { key: 'ASC' } })
      : [];
    const context = dependencies.map((dependency) => `### ${dependency.key}: ${dependency.title}\n${dependency.result ?? ''}`).join('\n\n');
    const system = [settings.systemPrompt, 'Work only inside the files and commands your tools give you; some tool calls wait for a human decision.']
      .filter(Boolean)
      .join('\n\n');
    const history = run.mode === RunMode.DIRECT ? await this.conversation.historyFor(run, task.agentId, settings.model) : [];
    const memories = await this.recall(task, run);
    return [
      { role: 'system', content: system },
      ...(memories.length ? [{ role: 'system' as const, content: `What you remember of this member, most relevant first:\n${memories.map((memory) => `- ${memory}`).join('\n')}` }] : []),
      ...history,
      { role: 'user', content: context ? `${task.prompt}\n\nResults of the tasks this one builds on:\n\n${context}` : task.prompt },
    ];
  }

  /** The agent's memories of the run's member closest to the task's prompt; none when memory is off or the embeddings call fails. */
  private async recall(task: AgentTask, run: AgentRun): Promise<string[]> {
    if (this.config.AGENTS_MEMORY_RECALL === 0 || !this.memory.embeddingModel) return [];
    try {
      const matches = await this.memory.search({ tenantId: task.tenantId, agentId: task.agentId, userId: run.userId, query: task.prompt, limit: this.config.AGENTS_MEMORY_RECALL });
      return matches.map((match) => match.memory.content);
    } catch (error) {
      this.logger.warn(`task ${task.id} runs without memories: ${(error as Error).message}`);
      return [];
    }
  }

  /** Refuses a call that would take the run past the agent's token budget, or the agent past its cost budget. */
  private async checkBudget({ task, run, settings }: Claim, transcript: ChatCompletionMessageParam[]): Promise<void> {
    const promptEstimate = estimateTokens(JSON.stringify(transcript).length);
    if (settings.tokenBudgetPerRun !== null) {
      const [{ used }] = await this.dataSource.query(`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) AS used FROM agent_model_calls WHERE run_id = $1 AND agent_id = $2`, [
        run.id,
        task.agentId,
      ]);
      if (Number(used) + promptEstimate > settings.tokenBudgetPerRun) {
        throw new TaskFailure(`budget exceeded: ${Number(used)} tokens used, about ${promptEstimate} more needed, ${settings.tokenBudgetPerRun} allowed per run`, 'budget.exceeded');
      }
    }
    if (settings.costBudgetUsd !== null) {
      const [{ spent }] = await this.dataSource.query(`SELECT coalesce(sum(cost_usd), 0) AS spent FROM agent_model_calls WHERE agent_id = $1`, [task.agentId]);
      const price = this.models.resolve(settings.model).spec.inputUsdPerMTok;
      if (Number(spent) + (promptEstimate * price) / 1e6 > settings.costBudgetUsd) {
        throw new TaskFailure(`budget exceeded: ${Number(spent).toFixed(6)} USD spent of ${settings.costBudgetUsd}`, 'budget.exceeded');
      }
    }
  }

  private async callModel(claim: Claim, transcript: ChatCompletionMessageParam[], tools: ReturnType<ToolRegistry['definitions']> | undefined, signal: AbortSignal): Promise<ChatResult> {
    let pending = '';
    let flushing = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (!pending) return;
      const text = pending;
      pending = '';
      flushing = flushing.then(() => this.events.record(claim.run.id, [{ type: 'message.delta', taskId: claim.task.id, payload: { text } }]).catch(() => undefined));
    };
    try {
      return await this.models.chat({
        model: claim.settings.model,
        messages: transcript,
        tools,
        maxTokens: claim.settings.maxOutputTokens,
        signal,
        onDelta: (text) => {
          pending += text;
          timer ??= setTimeout(flush, DELTA_FLUSH_MS);
        },
      });
    } finally {
      if (timer) clearTimeout(timer);
      flush();
      await flushing;
    }
  }

  /** Stores the model call (the ledger), the grown transcript and the task's running totals, under the lease; with `result`, completes the task too. */
  private async recordCall(claim: Claim, answer: ChatResult, transcript: ChatCompletionMessageParam[], result?: string): Promise<void> {
    const { task, run } = claim;
    const dispatch = await this.dataSource.transaction(async (manager) => {
      await this.assertLease(manager, claim);
      await manager.insert(AgentModelCall, {
        tenantId: task.tenantId,
        agentId: task.agentId,
        runId: run.id,
        taskId: task.id,
        model: answer.model,
        promptTokens: answer.usage.promptTokens,
        completionTokens: answer.usage.completionTokens,
        costUsd: answer.usage.costUsd,
        latencyMs: Math.round(answer.latencyMs),
      });
      await manager.query(
        `UPDATE agent_tasks SET transcript = $2, turns = turns + 1, prompt_tokens = prompt_tokens + $3, completion_tokens = completion_tokens + $4, cost_usd = cost_usd + $5 WHERE id = $1`,
        [task.id, JSON.stringify(transcript), answer.usage.promptTokens, answer.usage.completionTokens, answer.usage.costUsd],
      );
      await manager.query(`UPDATE agent_runs SET prompt_tokens = prompt_tokens + $2, completion_tokens = completion_tokens + $3, cost_usd = cost_usd + $4 WHERE id = $1`, [
        run.id,
        answer.usage.promptTokens,
        answer.usage.completionTokens,
        answer.usage.costUsd,
      ]);
      await this.events.append(manager, run.id, [
        {
          type: 'message.completed',
          taskId: task.id,
          payload: {
            content: answer.content,
            toolCalls: answer.toolCalls.map((call) => ({ id: call.id, name: call.name })),
            model: answer.model,
            scripted: answer.scripted,
            promptTokens: answer.usage.promptTokens,
            completionTokens: answer.usage.completionTokens,
            costUsd: answer.usage.costUsd,
            latencyMs: Math.round(answer.latencyMs),
          },
        },
      ]);
      return result === undefined ? [] : this.finishIn(manager, claim, TaskStatus.COMPLETED, { result }, [{ type: 'task.completed', payload: { key: task.key, result } }]);
    });
    await this.events.published(run.id);
    if (result !== undefined) await this.scheduler.dispatchAfterCommit(dispatch);
  }

  private async store(claim: Claim, changes: { transcript: ChatCompletionMessageParam[] }): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.assertLease(manager, claim);
      await manager.query(`UPDATE agent_tasks SET transcript = $2 WHERE id = $1`, [claim.task.id, JSON.stringify(changes.transcript)]);
    });
  }

  private async complete(claim: Claim, result: string): Promise<void> {
    await this.finish(claim, TaskStatus.COMPLETED, { result }, [{ type: 'task.completed', payload: { key: claim.task.key, result } }]);
  }

  /** A call waits for a decision: the task gives its slot back until the decision re-queues it. */
  private async waitForApproval(claim: Claim): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.assertLease(manager, claim);
      await manager.query(`UPDATE agent_tasks SET status = 'waiting_approval', lease_owner = NULL, lease_until = NULL WHERE id = $1`, [claim.task.id]);
      await this.scheduler.dispatchAgent(manager, claim.task.agentId);
      await this.events.append(manager, claim.run.id, [{ type: 'task.waiting_approval', taskId: claim.task.id, payload: { key: claim.task.key } }]);
    });
    this.scheduler.wake();
    await this.events.published(claim.run.id);
  }

  /** Gives the task back to its agent's queue at once (its stored steps stay), after PostgreSQL aborted one of its transactions. */
  private async release(claim: Claim): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.assertLease(manager, claim);
      await manager.query(`UPDATE agent_tasks SET status = 'queued', lease_owner = NULL, lease_until = NULL, queued_at = now() WHERE id = $1`, [claim.task.id]);
      await this.scheduler.dispatchAgent(manager, claim.task.agentId);
    });
    this.scheduler.wake();
  }

  private async failOrRetry(claim: Claim, error: Error): Promise<void> {
    const transient = error instanceof ModelError && error.transient;
    if (transient && claim.task.attempt < this.config.AGENTS_TASK_RETRY_LIMIT) {
      const delaySeconds = this.config.AGENTS_TASK_RETRY_DELAY_SECONDS * 2 ** claim.task.attempt * (0.8 + Math.random() * 0.4);
      await this.dataSource.transaction(async (manager) => {
        await this.assertLease(manager, claim);
        await manager.query(
          `UPDATE agent_tasks SET status = 'queued', attempt = attempt + 1, lease_owner = NULL, lease_until = NULL, not_before = now() + make_interval(secs => $2), queued_at = now() WHERE id = $1`,
          [claim.task.id, delaySeconds],
        );
        await this.scheduler.enqueue(manager, claim.task.id, delaySeconds);
        await this.scheduler.dispatchAgent(manager, claim.task.agentId);
        await this.events.append(manager, claim.run.id, [
          { type: 'task.retrying', taskId: claim.task.id, payload: { key: claim.task.key, attempt: claim.task.attempt + 1, delaySeconds, error: error.message } },
        ]);
      });
      await this.events.published(claim.run.id);
      this.outcomes.inc({ outcome: 'retrying' });
      return;
    }
    const failure = error instanceof TaskFailure ? error : undefined;
    const agentError = (error instanceof ModelError && !error.transient) || error instanceof UnknownModelError;
    if (!failure && !(error instanceof ModelError) && !(error instanceof UnknownModelError)) this.logger.error({ err: error }, `task ${claim.task.id} failed`);
    const message = error.message.slice(0, 2000);
    const events: NewRunEvent[] = [];
    if (failure?.eventType === 'budget.exceeded') events.push({ type: 'budget.exceeded', taskId: claim.task.id, payload: { key: claim.task.key, message } });
    events.push({ type: 'task.failed', taskId: claim.task.id, payload: { key: claim.task.key, error: message, transient } });
    await this.finish(claim, TaskStatus.FAILED, { error: message }, events);
    if (agentError) await this.dataSource.query(`UPDATE agents SET status = $2, last_error = $3 WHERE id = $1`, [claim.task.agentId, AgentStatus.ERROR, message]);
    this.outcomes.inc({ outcome: 'failed' });
  }

  private async finish(claim: Claim, status: TaskStatus, changes: { result?: string; error?: string }, events: NewRunEvent[]): Promise<void> {
    const dispatch = await this.dataSource.transaction(async (manager) => {
      await this.assertLease(manager, claim);
      return this.finishIn(manager, claim, status, changes, events);
    });
    await this.events.published(claim.run.id);
    await this.scheduler.dispatchAfterCommit(dispatch);
  }

  /** Ends the task in the caller's transaction (which holds the lease): the run's next steps, and an agent in ERROR is READY again after a success. */
  /** Answers the agents whose queues to dispatch once the transaction commits. */
  private async finishIn(manager: EntityManager, claim: Claim, status: TaskStatus, changes: { result?: string; error?: string }, events: NewRunEvent[]): Promise<string[]> {
    const [[row]] = await manager.query(
      `UPDATE agent_tasks SET status = $2, result = $3, error = $4, finished_at = now(), lease_owner = NULL, lease_until = NULL WHERE id = $1 RETURNING id`,
      [claim.task.id, status, changes.result ?? null, changes.error ?? null],
    );
    const task = await manager.findOneByOrFail(AgentTask, { id: (row as { id: string }).id });
    const following = await this.scheduler.afterTaskFinished(manager, task);
    await this.events.append(manager, claim.run.id, [...events.map((event) => ({ taskId: claim.task.id, ...event })), ...following.events]);
    if (status === TaskStatus.COMPLETED) {
      await manager.query(`UPDATE agents SET status = 'ready', last_error = NULL WHERE id = $1 AND status = 'error'`, [claim.task.agentId]);
      if (this.memory.embeddingModel) await this.jobs.enqueue(MEMORY_QUEUE, { taskId: claim.task.id }, { tx: manager });
    }
    return following.dispatch;
  }

  /** Locks the task row and proves this worker still holds it (not cancelled, not taken over after a lapsed lease). */
  private async assertLease(manager: EntityManager, claim: Claim): Promise<void> {
    await lockRun(manager, claim.run.id);
    const [row] = await manager.query(`SELECT status, lease_owner FROM agent_tasks WHERE id = $1 FOR UPDATE`, [claim.task.id]);
    if (!row || row.status !== TaskStatus.RUNNING || row.lease_owner !== claim.lease) throw new LeaseLostError(`task ${claim.task.id} is no longer ours`);
  }
}

