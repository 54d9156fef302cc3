import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { JobQueue } from '@multipult/jobs';
import { counter } from '@multipult/observability';
import type { AgentsConfig } from '../config';
import { TaskScheduler } from './task-scheduler';

const RECOVERY_QUEUE = 'agents.task-recovery';

/**
 * The safety net under the task jobs: a task whose lease lapsed (its replica died mid-task) gets a
 * new job, which takes it over and resumes from its stored transcript; an agent with queued tasks
 * and free slots gets them dispatched (in case a wake-up was lost).
 */
@Injectable()
export class TaskRecovery implements OnModuleInit {
  private readonly logger = new Logger(TaskRecovery.name);
  private readonly resumed = counter({ name: 'agents_tasks_resumed_total', help: 'Tasks taken over after their lease lapsed', labelNames: [] as const });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AgentsConfig,
    private readonly jobs: JobQueue,
    private readonly scheduler: TaskScheduler,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.defineRecurring({ name: RECOVERY_QUEUE, everySeconds: this.config.AGENTS_RECOVERY_CHECK_SECONDS, handler: () => this.recover() });
  }

  async recover(): Promise<void> {
    // The new job's claim decides (under the run's lock) whether the lease really lapsed.
    const lapsed: { id: string }[] = await this.dataSource.query(`SELECT id FROM agent_tasks WHERE status = 'running' AND lease_until < now() ORDER BY lease_until LIMIT 500`);
    if (lapsed.length) {
      await this.dataSource.transaction(async (manager) => {
        for (const { id } of lapsed) await this.scheduler.enqueue(manager, id);
      });
      this.resumed.inc(lapsed.length);
      this.logger.warn(`${lapsed.length} task(s) whose worker stopped renewing its lease are resumed`);
    }
    const agents: { agent_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT agent_id FROM agent_tasks WHERE status = 'queued' AND (not_before IS NULL OR not_before <= now()) LIMIT 500`,
    );
    for (const { agent_id: agentId } of agents) await this.dataSource.transaction((manager) => this.scheduler.dispatchAgent(manager, agentId));
    if (lapsed.length || agents.length) this.scheduler.wake();
  }
}
