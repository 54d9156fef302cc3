import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { z } from 'zod';
import { APP_CONFIG } from '@multipult/config';
import { JobQueue, RunningJob } from '@multipult/jobs';
import { Agent } from '../agents/agent.entity';
import { Conversation } from '../chat/conversation';
import type { AgentsConfig } from '../config';
import { ModelError, ModelGateway } from '../models/model-gateway';
import { PLANNER_MARKER } from '../models/scripted-model';
import { AgentModelCall } from './model-call.entity';
import { PlanProblem, PlannedTask, planProblem } from './plan';
import { NewRunEvent, RunEvents } from './run-events';
import { AgentRun, RunStatus } from './run.entity';
import { RunsService } from './runs.service';
import { PLAN_QUEUE, PlanJob, TaskScheduler, lockRun } from './task-scheduler';

const plannerAnswer = z.object({
  tasks: z
    .array(
      z.object({
        key: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
        agentId: z.string(),
        title: z.string().max(200).optional(),
        prompt: z.string().min(1).max(20_000),
        dependsOn: z.array(z.string()).default([]),
      }),
    )
    .min(1),
});

/**
 * Writes an orchestrated run's plan with the planner model: the request and the candidate agents
 * go in, a JSON task graph comes out, and it is checked like a plan a person wrote (a cycle or an
 * agent outside the candidates fails the run before anything runs, naming the problem).
 */
@Injectable()
export class Planner implements OnModuleInit {
  private readonly logger = new Logger(Planner.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly jobs: JobQueue,
    private readonly models: ModelGateway,
    private readonly runs: RunsService,
    private readonly scheduler: TaskScheduler,
    private readonly events: RunEvents,
    private readonly conversation: Conversation,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.define<PlanJob>({
      name: PLAN_QUEUE,
      handler: (job) => this.plan(job),
      concurrency: Math.max(1, Math.ceil(this.config.AGENTS_TASK_CONCURRENCY / 4)),
      retryLimit: this.config.AGENTS_TASK_RETRY_LIMIT,
      retryDelaySeconds: Math.max(1, Math.ceil(this.config.AGENTS_TASK_RETRY_DELAY_SECONDS)),
      expireInSeconds: Math.ceil(this.config.AGENTS_MODEL_TIMEOUT_MS / 1000) * (this.config.AGENTS_MODEL_MAX_RETRIES + 1) + 60,
      // An attempt may wait minutes on the model: a plan whose replica died is retried once its heartbeat lapses, not at that timeout (5 minutes by default).
      heartbeat: true,
    });
  }

  private async plan(job: RunningJob<PlanJob>): Promise<void> {
    const run = await this.dataSource.getRepository(AgentRun).findOneBy({ id: job.data.runId });
    if (!run || run.status !== RunStatus.PLANNING) return;
    const agents = await this.dataSource.getRepository(Agent).findBy({ id: In(run.candidateAgentIds), tenantId: run.tenantId });
    let answer;
    try {
      answer = await this.models.chat({
        model: run.plannerModel as string,
        messages: [
          { role: 'system', content: plannerPrompt(agents) },
          ...(await this.conversation.historyFor(run, agents[0]?.id ?? run.candidateAgentIds[0], run.plannerModel as string, job.signal)),
          { role: 'user', content: run.request },
        ],
        signal: job.signal,
      });
    } catch (error) {
      if (error instanceof ModelError && error.transient) throw error;
      return this.fail(run, `the planner model failed: ${(error as Error).message}`);
    }
    await this.dataSource.getRepository(AgentModelCall).insert({
      tenantId: run.tenantId,
      agentId: agents[0]?.id ?? run.candidateAgentIds[0],
      runId: run.id,
      taskId: null,
      model: answer.model,
      promptTokens: answer.usage.promptTokens,
      completionTokens: answer.usage.completionTokens,
      costUsd: answer.usage.costUsd,
      latencyMs: Math.round(answer.latencyMs),
    });
    const parsed = plannerAnswer.safeParse(parseJson(answer.content ?? ''));
    if (!parsed.success) return this.fail(run, `the planner's answer is not a plan: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const planned: PlannedTask[] = parsed.data.tasks.map((task) => ({ ...task, title: task.title?.trim() || task.key, dependsOn: task.dependsOn }));
    const problem = planProblem(planned);
    if (problem) return this.fail(run, planProblemText(problem));
    const byId = new Map(agents.filter((agent) => agent.archivedAt === null).map((agent) => [agent.id, agent]));
    const foreign = planned.filter((task) => !byId.has(task.agentId));
    if (foreign.length) return this.fail(run, `the plan names agents that are not among the candidates: ${foreign.map((task) => `${task.key}: ${task.agentId}`).join(', ')}`);
    await this.dataSource.transaction(async (manager) => {
      await lockRun(manager, run.id);
      const current = await manager.findOne(AgentRun, { where: { id: run.id }, lock: { mode: 'pessimistic_write' } });
      if (!current || current.status !== RunStatus.PLANNING) return;
      current.planVersion = 1;
      current.status = RunStatus.AWAITING_APPROVAL;
      await manager.save(current);
      await this.runs.insertTasks(manager, current, planned, byId);
      const events: NewRunEvent[] = [{ type: 'plan.ready', payload: { planVersion: 1, tasks: planned, plannerModel: current.plannerModel } }];
      if (current.autoStart) events.push(...(await this.scheduler.start(manager, current)));
      await this.events.append(manager, current.id, events);
    });
    this.scheduler.wake();
    await this.events.published(run.id);
  }

  private async fail(run: AgentRun, error: string): Promise<void> {
    this.logger.warn(`planning run ${run.id} failed: ${error}`);
    await this.dataSource.transaction(async (manager) => {
      const updated = await manager.update(AgentRun, { id: run.id, status: RunStatus.PLANNING }, { status: RunStatus.FAILED, error, finishedAt: new Date() });
      if (!updated.affected) return;
      await this.scheduler.afterRunEnded(manager, { ...run, status: RunStatus.FAILED, error });
      await this.events.append(manager, run.id, [
        { type: 'error', payload: { stage: 'planning', message: error } },
        { type: 'run.failed', payload: { status: RunStatus.FAILED, error, tasks: [] } },
      ]);
    });
    await this.events.published(run.id);
  }
}

function plannerPrompt(agents: Agent[]): string {
  return [
    PLANNER_MARKER,
    JSON.stringify({ agents: agents.map((agent) => ({ id: agent.id, name: agent.name, description: agent.description })) }),
    'Split the user request into tasks for these agents. Answer with JSON only: {"tasks":[{"key","agentId","title","prompt","dependsOn":[keys]}]}.',
    'Tasks that do not need each other must not depend on each other, so they run in parallel. No cycles.',
  ].join('\n');
}

/** The model's JSON, also when it wrapped it in a Markdown code fence. */
function parseJson(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  try {
    return JSON.parse((fenced ? fenced[1] : text).trim());
  } catch {
    return undefined;
  }
}

/** The problem in words, for the run's error (a person reads it in the run, not as a typed API error). */
function planProblemText(problem: PlanProblem): string {
  switch (problem.kind) {
    case 'cycle':
      return `the plan has a cycle: ${problem.cycle.join(' → ')}`;
    case 'duplicate_key':
      return `two tasks of the plan are named ${problem.key}`;
    case 'unknown_dependency':
      return `task ${problem.key} depends on ${problem.dependency}, which is not in the plan`;
    case 'too_many':
      return `the plan has more than ${problem.limit} tasks`;
    case 'empty':
      return 'the plan has no tasks';
  }
}
