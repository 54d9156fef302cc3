import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, PoolConfig } from 'pg';
import { PgBoss } from 'pg-boss';
import type { ConstructorOptions, JobWithMetadata, QueuePolicy, SendOptions } from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { POSTGRES_KEEPALIVE, closingSilentConnections } from '@multipult/database';
import { retentionRan, retentionScheduled } from '@multipult/observability';
import { entityManagerDb } from './entity-manager-db';
import { jobMetrics, registerQueueSizeSource, unregisterQueueSizeSource } from './job-metrics';
import { JobsConfig } from './jobs-env';

export const JOBS_MODULE_OPTIONS = Symbol('JOBS_MODULE_OPTIONS');

export interface JobsModuleOptions {
  /** The service's name (as in the registry); its jobs live in the PostgreSQL schema `<service>_jobs`. */
  service: string;
}

/** What a handler gets for one attempt of one job. */
export interface RunningJob<T> {
  id: string;
  queue: string;
  data: T;
  /** 0 on the first attempt, 1 on the first retry, and so on. */
  attempt: number;
  /**
   * Fires when the job is cancelled (from any replica), when its claim is lost, or when shutdown's
   * grace period is over. A handler that does long work should stop on it.
   */
  signal: AbortSignal;
  /** Records how far the job has got, readable through JobQueue.progress(id) from any replica. */
  reportProgress(percent: number, message?: string): Promise<void>;
}

export interface QueueDefinition<T> {
  name: string;
  handler: (job: RunningJob<T>) => Promise<unknown>;
  /**
   * How a singletonKey is enforced: `standard` (with singletonSeconds: one job per key and time
   * slot), `short` (one queued job per key), `singleton` (one active), `exclusive` (one queued or
   * active). Default `standard`.
   */
  policy?: QueuePolicy;
  /** Retries after the first attempt before the job moves to `<name>.dead`. Default 3. */
  retryLimit?: number;
  /** First retry delay; with retryBackoff each further retry waits about twice as long, with jitter. Default 5. */
  retryDelaySeconds?: number;
  /** Default true. */
  retryBackoff?: boolean;
  /** Ceiling of the backed-off delay. Default 600. */
  retryDelayMaxSeconds?: number;
  /** An attempt running longer than this is failed (and retried). Default 900. */
  expireInSeconds?: number;
  /**
   * For long jobs (an attempt timeout of many minutes): the worker refreshes its claim every half of
   * JOBS_HEARTBEAT_SECONDS, and a claim not refreshed for that long (its replica died, or lost the
   * database while recording the outcome) is failed and retried at the next supervise pass instead
   * of at the attempt timeout. Short jobs need none: their attempt timeout bounds them (recurring
   * runs always carry one: see defineRecurring). Default false.
   */
  heartbeat?: boolean;
  /** Jobs this replica runs at once. Default 1. */
  concurrency?: number;
  /**
   * Jobs of one concurrencyKey (a tenant, an agent) running at once across all replicas, enforced
   * by the database: pg-boss's group concurrency picks jobs, and a slot claimed under an advisory
   * lock makes the limit exact (pg-boss alone can exceed it when replicas fetch at the same
   * moment). Unset: no per-key limit.
   */
  concurrencyPerKey?: number;
  /** How often an idle worker of this queue looks for due jobs. Default JOBS_POLL_INTERVAL_SECONDS. */
  pollingIntervalSeconds?: number;
}

export interface RecurringDefinition {
  name: string;
  /** Seconds from the start of one run to the next (fractions allowed: no cron resolution applies). */
  everySeconds: number;
  handler: (job: RunningJob<object>) => Promise<unknown>;
  /** An attempt running longer than this is failed. Default 900. */
  expireInSeconds?: number;
}

export interface EnqueueOptions {
  /** The business transaction's EntityManager: the job exists only if that transaction commits. */
  tx?: EntityManager;
  /** Deduplicates by the queue's policy; enqueue then answers null. */
  singletonKey?: string;
  /** With singletonKey on a `standard` queue: one job per key in each slot of this many seconds. */
  singletonSeconds?: number;
  /** Not before this time (a Date) or this many seconds from now. */
  startAfter?: Date | number;
  /** Higher runs first. */
  priority?: number;
  /** The key the queue's concurrencyPerKey limit counts by (tenant id, agent id). */
  concurrencyKey?: string;
}

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

export interface JobSnapshot<T> {
  id: string;
  queue: string;
  data: T;
  state: JobState;
  /** Attempts that were retried so far. */
  retryCount: number;
  /** The handler's result once completed, its error once failed. */
  output: unknown;
  /** For a job in `<name>.dead`: the id it had in its own queue. */
  sourceId: string | null;
}

export interface JobProgress {
  percent: number;
  message: string | null;
  updatedAt: Date;
}

/** A handler's reason when the job was cancelled while it ran. */
export class JobCancelledError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`);
    this.name = 'JobCancelledError';
  }
}

interface RunningAttempt {
  attempt: number;
  cancel: AbortController;
}

const DEFAULT_RETRY_LIMIT = 3;
/**
 * A recurring queue's worker looks for its next run this often at most: every run is queued
 * `everySeconds` ahead, so polling at a tenth of that (within these bounds) delays a run by at
 * most a tenth of its period, instead of querying every JOBS_POLL_INTERVAL_SECONDS all hour.
 */
const RECURRING_POLL_FRACTION = 0.1;
const RECURRING_MAX_POLL_SECONDS = 30;
/**
 * A run the cron or a starting replica queued waits until this share of a period has passed since
 * the last run started: a successor its predecessor queued starts a period after it by the app's
 * clock, and the slack keeps that clock's skew from the database's out of the question.
 */
const RECURRING_MIN_SPACING = 0.9;

/** A recurring run's job data: `chained` when its predecessor queued it, due a period after that one started. */
interface RecurringRunData {
  chained?: true;
}
/**
 * How often each slot of a queue with several looks for jobs on its own. The queue's tick wakes one
 * idle slot at the queue's interval instead: one look per interval however many slots, and none
 * while every slot is busy (nothing could be taken on).
 */
const SLOT_BACKSTOP_POLL_SECONDS = 60;

/** This replica's workers of one queue: one pg-boss worker per unit of concurrency, by the id pg-boss gave it. */
interface QueueSlots {
  workerIds: string[];
  tick?: NodeJS.Timeout;
}
/** How often a job whose key is at its limit looks for a free slot again. */
const KEY_SLOT_RETRY_MS = 100;
const PROGRESS_CLEANUP_INTERVAL_MS = 60 * 60 * 1000;
/** The retention job name of job_progress in metrics (every replica runs it on its own timer). */
export const PROGRESS_RETENTION_JOB = 'jobs.progress-retention';

/** The dead-letter queue of a queue: where its jobs go after their last retry. */
export const deadLetterQueue = (name: string) => `${name}.dead`;

/** The PostgreSQL schema of a service's jobs. */
export const jobsSchema = (service: string) => `${service.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_jobs`;

/**
 * Durable jobs of one service on pg-boss: one PgBoss (its own small pool) per service in the
 * schema `<service>_jobs`, migrated at start under pg-boss's advisory locks. Queues are defined by
 * feature modules in onModuleInit; their workers and the cancellation watch start once the
 * application has bootstrapped, and stop (running jobs given SHUTDOWN_GRACE_SECONDS) before it
 * closes its database.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly boss: PgBoss;
  private readonly schema: string;
  private readonly definitions = new Map<string, QueueDefinition<never>>();
  private readonly running = new Map<string, RunningAttempt>();
  private readonly slots = new Map<string, QueueSlots>();
  private readonly recurring: RecurringDefinition[] = [];
  private bootstrapped = false;
  private stopping = false;
  private cancelTimer?: NodeJS.Timeout;
  private cleanupTimer?: NodeJS.Timeout;
  private lostClaimsTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: JobsConfig,
    @Inject(JOBS_MODULE_OPTIONS) private readonly options: JobsModuleOptions,
  ) {
    this.schema = jobsSchema(options.service);
    // pg-boss hands its options to pg's Pool, which takes the same keepalive and bound on silent connections as the service's pool.
    const poolOptions: Pick<PoolConfig, 'Client' | 'keepAlive' | 'keepAliveInitialDelayMillis'> = {
      ...POSTGRES_KEEPALIVE,
      Client: closingSilentConnections(Client, config.DATABASE_SOCKET_TIMEOUT_MS),
    };
    const bossOptions: ConstructorOptions = {
      connectionString: config.DATABASE_URL,
      schema: this.schema,
      max: config.JOBS_POOL_MAX,
      application_name: `${options.service}-jobs`,
      cronMonitorIntervalSeconds: config.JOBS_CRON_INTERVAL_SECONDS,
      cronWorkerIntervalSeconds: Math.min(5, config.JOBS_CRON_INTERVAL_SECONDS),
      // Expiry runs in pg-boss's monitor pass, spaced by the longer of the two intervals.
      superviseIntervalSeconds: config.JOBS_SUPERVISE_INTERVAL_SECONDS,
      monitorIntervalSeconds: config.JOBS_SUPERVISE_INTERVAL_SECONDS,
      instanceName: options.service,
      // A job's span continues the trace of the request that enqueued it.
      openTelemetry: { propagateContext: true },
    };
    this.boss = new PgBoss({ ...bossOptions, ...poolOptions });
    // An EventEmitter without an 'error' listener would crash the process on a lost connection.
    this.boss.on('error', (error) => this.logger.error(`pg-boss: ${error.message}`));
    this.boss.on('warning', (warning) => this.logger.warn(`pg-boss: ${warning.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    await this.createTables();
    registerQueueSizeSource(this, () => this.queueSizes());
    // Registered before any job ran, so dashboards and alerts find the series from the start.
    jobMetrics();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.bootstrapped = true;
    if (!this.config.JOBS_WORKERS_ENABLED) this.logger.log('Running no jobs on this replica (JOBS_WORKERS_ENABLED=false): replicas with workers run them');
    for (const definition of this.definitions.values()) await this.startWorker(definition);
    for (const definition of this.recurring) await this.startRecurring(definition);
    this.cancelTimer = setInterval(() => void this.abortCancelled(), this.config.JOBS_CANCEL_CHECK_MS);
    retentionScheduled(PROGRESS_RETENTION_JOB, PROGRESS_CLEANUP_INTERVAL_MS / 1000);
    this.cleanupTimer = setInterval(() => void this.removeOldProgress(), PROGRESS_CLEANUP_INTERVAL_MS);
    this.lostClaimsTimer = setInterval(() => void this.failLostClaims(), this.config.JOBS_SUPERVISE_INTERVAL_SECONDS * 1000);
    this.cancelTimer.unref();
    this.cleanupTimer.unref();
    this.lostClaimsTimer.unref();
    await this.removeOldProgress();
  }

  /** Running jobs finish within the grace period; the rest are failed, so another replica retries them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const { tick } of this.slots.values()) clearInterval(tick);
    unregisterQueueSizeSource(this);
    clearInterval(this.cleanupTimer);
    clearInterval(this.lostClaimsTimer);
    await this.boss.stop({ graceful: true, timeout: this.config.SHUTDOWN_GRACE_SECONDS * 1000, close: false });
    clearInterval(this.cancelTimer);
  }

  /** The pool stays open until here so requests still draining can enqueue. */
  async onApplicationShutdown(): Promise<void> {
    await this.boss.stop({ close: true });
  }

  /** Creates the queue and its dead-letter queue (idempotent) and, once bootstrapped, its worker. */
  async define<T>(definition: QueueDefinition<T>): Promise<void> {
    if (this.definitions.has(definition.name)) throw new Error(`job queue ${definition.name} is already defined`);
    this.definitions.set(definition.name, definition as QueueDefinition<never>);
    const dead = deadLetterQueue(definition.name);
    await this.ensureQueue(dead, {});
    await this.ensureQueue(definition.name, {
      policy: definition.policy ?? 'standard',
      deadLetter: dead,
      retryLimit: definition.retryLimit ?? DEFAULT_RETRY_LIMIT,
      retryDelay: definition.retryDelaySeconds ?? 5,
      retryBackoff: definition.retryBackoff ?? true,
      retryDelayMax: definition.retryDelayMaxSeconds ?? 600,
      expireInSeconds: definition.expireInSeconds ?? 900,
      heartbeatSeconds: this.heartbeatSecondsOf(definition.name),
    });
    if (this.bootstrapped && !this.stopping) await this.startWorker(definition);
  }

  /**
   * Work that runs every `everySeconds` once across replicas (sweeps, republishing, retention).
   * Each run enqueues the next with startAfter, and the queue's `short` policy keeps one queued run
   * per name, so the run every replica enqueues at start and a per-minute cron that restarts the
   * chain (should a successor's enqueue fail) merge into one chain. A run that finds another under
   * way (queued by the cron or a starting replica while it ran), or that the cron or a starting
   * replica queued and that comes within a period of the last run's start, only queues the next:
   * runs never overlap, however long one takes, nor come closer together than about a period.
   * Runs carry a heartbeat: one whose replica died, or whose claim or outcome was lost as the
   * database restarted, would hold the chain until its attempt timeout (15 minutes by default, for
   * a pass due every few seconds); its claim is failed once silent instead (JOBS_HEARTBEAT_SECONDS,
   * at the next supervise pass). A failed run is not retried (it goes to `<name>.dead`): the next
   * one is already queued.
   */
  async defineRecurring(definition: RecurringDefinition): Promise<void> {
    if (!(definition.everySeconds > 0)) throw new RangeError(`everySeconds must be positive, got ${definition.everySeconds}`);
    await this.define<RecurringRunData>({
      name: definition.name,
      policy: 'short',
      retryLimit: 0,
      expireInSeconds: definition.expireInSeconds,
      heartbeat: true,
      pollingIntervalSeconds: Math.max(
        this.config.JOBS_POLL_INTERVAL_SECONDS,
        Math.min(RECURRING_MAX_POLL_SECONDS, definition.everySeconds * RECURRING_POLL_FRACTION),
      ),
      handler: async (job) => {
        const startedAt = Date.now();
        const periodMs = definition.everySeconds * 1000;
        // A run its predecessor queued is due; one the per-minute cron or a starting replica queued
        // while a run was under way may be taken just after that run ended.
        const spacingSeconds = job.data.chained ? 0 : definition.everySeconds * RECURRING_MIN_SPACING;
        const previous = await this.previousRecurringRun(definition.name, job.id, spacingSeconds);
        if (previous) {
          // Never two at once, nor two within a period: this one only keeps the chain going.
          await this.enqueueRecurring(definition.name, new Date(previous.active ? startedAt + periodMs : previous.startedOn.getTime() + periodMs), { chained: true });
          return undefined;
        }
        try {
          return await definition.handler(job);
        } finally {
          const wait = Math.max(0, periodMs - (Date.now() - startedAt));
          await this.enqueueRecurring(definition.name, new Date(Date.now() + wait), { chained: true });
        }
      },
    });
    this.recurring.push(definition);
    if (this.bootstrapped && !this.stopping) await this.startRecurring(definition);
  }

  /**
   * Makes this replica's worker of the queue look for jobs now instead of at its next poll: call
   * it after the transaction that enqueued committed, for work a user waits on. Other replicas
   * still find the job at their next poll.
   */
  wake(name: string): void {
    const slots = this.slots.get(name);
    // With every slot busy, the first looks again as soon as its job is done.
    if (slots && !this.stopping) this.boss.notifyWorker(this.idleSlotOf(slots) ?? slots.workerIds[0]);
  }

  /** When this replica's workers of the queue last looked for jobs; null before their first look (or when it has none). */
  lastFetchedAt(name: string): Date | null {
    const workerIds = this.slots.get(name)?.workerIds ?? [];
    const fetched = this.boss
      .getWipData()
      .filter((worker) => workerIds.includes(worker.id) && worker.lastFetchedOn !== null)
      .map((worker) => worker.lastFetchedOn as number);
    return fetched.length ? new Date(Math.max(...fetched)) : null;
  }

  /** Answers the job's id, or null when its singletonKey deduplicated it. */
  async enqueue<T extends object>(name: string, data: T, options: EnqueueOptions = {}): Promise<string | null> {
    this.assertDefined(name);
    const send: SendOptions = { ...this.jobOptions(name, options), db: options.tx ? entityManagerDb(options.tx) : undefined };
    return this.boss.send(name, data, stripUndefined(send));
  }

  /**
   * Several jobs of one queue in one statement (deduplicated by the queue's policy, as `enqueue` is),
   * e.g. one per row a consumer batch wrote; with `tx`, they exist only if that transaction commits.
   */
  async enqueueMany<T extends object>(name: string, jobs: ({ data: T } & Omit<EnqueueOptions, 'tx'>)[], options: { tx?: EntityManager } = {}): Promise<void> {
    this.assertDefined(name);
    if (!jobs.length) return;
    const inserts = jobs.map((job) => stripUndefined({ data: job.data, ...this.jobOptions(name, job) }));
    await this.boss.insert(name, inserts, options.tx ? { db: entityManagerDb(options.tx) } : {});
  }

  /** A job's pg-boss options from EnqueueOptions (send and insert read the same fields). */
  private jobOptions(name: string, options: Omit<EnqueueOptions, 'tx'>) {
    return {
      singletonKey: options.singletonKey,
      singletonSeconds: options.singletonSeconds,
      priority: options.priority,
      startAfter: options.startAfter,
      group: options.concurrencyKey === undefined ? undefined : { id: options.concurrencyKey },
      heartbeatSeconds: this.heartbeatSecondsOf(name),
    };
  }

  /**
   * Enqueues `data` on the cron expression (5 fields, or 6 with seconds; UTC unless tz) exactly
   * once per occurrence across all replicas. Idempotent: every replica may call it at start.
   */
  async schedule<T extends object>(name: string, cron: string, data?: T, options: { tz?: string } = {}): Promise<void> {
    this.assertDefined(name);
    await this.boss.schedule(name, cron, data ?? null, stripUndefined({ tz: options.tz, heartbeatSeconds: this.heartbeatSecondsOf(name) }));
  }

  async unschedule(name: string): Promise<void> {
    await this.boss.unschedule(name);
  }

  /**
   * Cancels a queued job, or a running one: its handler's signal fires on whichever replica runs
   * it (here at once, elsewhere within JOBS_CANCEL_CHECK_MS). False when the job had already ended.
   */
  async cancel(name: string, id: string, options: { tx?: EntityManager } = {}): Promise<boolean> {
    const result = await this.boss.cancel(name, id, options.tx ? { db: entityManagerDb(options.tx) } : {});
    // pg-boss's declared CommandResponse is empty; the object carries the count.
    const cancelled = ((result as { affected?: number }).affected ?? 0) > 0;
    if (cancelled && !options.tx) this.running.get(id)?.cancel.abort(new JobCancelledError(id));
    return cancelled;
  }

  async find<T>(name: string, id: string): Promise<JobSnapshot<T> | undefined> {
    const [job] = await this.boss.findJobs<T>(name, { id });
    return job ? snapshot(job) : undefined;
  }

  /** Jobs of `<name>.dead`, oldest first. */
  async deadLetters<T>(name: string, limit = 100): Promise<JobSnapshot<T>[]> {
    return (await this.boss.findJobs<T>(deadLetterQueue(name), { limit })).map(snapshot);
  }

  async progress(id: string): Promise<JobProgress | undefined> {
    const { rows } = await this.boss
      .getDb()
      .executeSql(`SELECT percent, message, updated_at FROM "${this.schema}".job_progress WHERE job_id = $1`, [id]);
    const [row] = rows as { percent: number; message: string | null; updated_at: Date }[];
    return row ? { percent: row.percent, message: row.message, updatedAt: row.updated_at } : undefined;
  }

  /** A queue's heartbeat: set on the queue and on each of its jobs, so queues created before it carry it too. */
  private heartbeatSecondsOf(name: string): number | undefined {
    return this.definitions.get(name)?.heartbeat ? this.config.JOBS_HEARTBEAT_SECONDS : undefined;
  }

  private async startRecurring(definition: RecurringDefinition): Promise<void> {
    if (!this.config.JOBS_WORKERS_ENABLED) return;
    await this.boss.schedule(definition.name, '* * * * *', {}, stripUndefined({ singletonKey: definition.name, heartbeatSeconds: this.heartbeatSecondsOf(definition.name) }));
    await this.enqueueRecurring(definition.name);
    // The first run is due now: not at the worker's next (possibly long) poll.
    this.wake(definition.name);
  }

  /** Another run of the queue under way (on any replica), or the latest one that started within `withinSeconds`. */
  private async previousRecurringRun(name: string, jobId: string, withinSeconds: number): Promise<{ active: boolean; startedOn: Date } | null> {
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT coalesce(bool_or(state = 'active'), false) AS active, max(started_on) AS started_on FROM "${this.schema}".job
       WHERE name = $1 AND id <> $2 AND (state = 'active' OR started_on > now() - make_interval(secs => $3))`,
      [name, jobId, withinSeconds],
    );
    const [previous] = rows as { active: boolean; started_on: Date | null }[];
    return previous.started_on ? { active: previous.active, startedOn: previous.started_on } : null;
  }

  private async enqueueRecurring(name: string, startAfter?: Date, data: RecurringRunData = {}): Promise<void> {
    try {
      await this.boss.send(name, data, stripUndefined({ singletonKey: name, startAfter, heartbeatSeconds: this.heartbeatSecondsOf(name) }));
    } catch (error) {
      // The per-minute cron restarts the chain.
      this.logger.warn(`Queueing the next run of ${name} failed: ${(error as Error).message}`);
    }
  }

  private assertDefined(name: string): void {
    if (!this.definitions.has(name)) throw new Error(`job queue ${name} is not defined (JobQueue.define)`);
  }

  /**
   * createQueue does nothing when the queue exists (replicas start together), so the options are
   * then applied by updateQueue: a changed definition takes effect at the next deploy. The policy
   * cannot change once the queue exists.
   */
  private async ensureQueue(name: string, options: Parameters<PgBoss['createQueue']>[1] = {}): Promise<void> {
    await this.boss.createQueue(name, stripUndefined(options));
    // A queue's heartbeat is set at creation only; each job carries it too (enqueue), so queues created before it have it.
    const { policy: _policy, heartbeatSeconds: _heartbeatSeconds, ...updatable } = options;
    if (Object.keys(updatable).length > 0) await this.boss.updateQueue(name, updatable);
  }

  /**
   * One pg-boss worker per unit of concurrency (a slot), each started on its own so its handler knows
   * it: a slot that finished a job looks for the next at once (pg-boss would wait out the poll
   * interval after every job, one job per slot per interval), and a slot that got one wakes an idle
   * slot, so a backlog fills every slot. With several slots, the queue's tick stands in for their
   * polling (SLOT_BACKSTOP_POLL_SECONDS).
   */
  private async startWorker<T>(definition: QueueDefinition<T>): Promise<void> {
    if (!this.config.JOBS_WORKERS_ENABLED) return;
    const { name } = definition;
    const concurrency = definition.concurrency ?? 1;
    const interval = definition.pollingIntervalSeconds ?? this.config.JOBS_POLL_INTERVAL_SECONDS;
    const slots: QueueSlots = { workerIds: [] };
    this.slots.set(name, slots);
    const options = {
      includeMetadata: true,
      batchSize: 1,
      localConcurrency: 1,
      pollingIntervalSeconds: concurrency === 1 ? interval : Math.max(interval, SLOT_BACKSTOP_POLL_SECONDS),
      ...(definition.concurrencyPerKey === undefined ? {} : { groupConcurrency: definition.concurrencyPerKey }),
    } as const;
    for (let slot = 0; slot < concurrency; slot++) {
      const workerId: string = await this.boss.work<T, unknown, typeof options>(name, options, async ([job]) => {
        if (concurrency > 1) this.wakeIdleSlot(slots, workerId);
        try {
          return await this.run(definition, job);
        } finally {
          this.boss.notifyWorker(workerId);
        }
      });
      slots.workerIds.push(workerId);
    }
    if (concurrency > 1) {
      slots.tick = setInterval(() => this.wakeIdleSlot(slots), interval * 1000);
      slots.tick.unref();
    }
  }

  /** The id of a slot with no job (waiting for its next look, or looking), other than `except`. */
  private idleSlotOf(slots: QueueSlots, except?: string): string | undefined {
    return this.boss.getWipData().find((worker) => worker.count === 0 && worker.id !== except && slots.workerIds.includes(worker.id))?.id;
  }

  private wakeIdleSlot(slots: QueueSlots, except?: string): void {
    if (this.stopping) return;
    const idle = this.idleSlotOf(slots, except);
    if (idle !== undefined) this.boss.notifyWorker(idle);
  }

  private async run<T>(definition: QueueDefinition<T>, job: JobWithMetadata<T>): Promise<unknown> {
    const metrics = jobMetrics();
    const labels = { service: this.options.service, queue: definition.name };
    const cancel = new AbortController();
    this.running.set(job.id, { attempt: job.retryCount, cancel });
    const signal = AbortSignal.any([job.signal, cancel.signal]);
    const keyed = definition.concurrencyPerKey !== undefined && job.groupId ? job.groupId : undefined;
    let endTimer: ((labels: { outcome: string }) => number) | undefined;
    try {
      if (keyed) await this.claimKeySlot(definition.name, keyed, job.id, definition.concurrencyPerKey as number, signal);
      endTimer = metrics.handlerDuration.startTimer(labels);
      const result = await definition.handler({
        id: job.id,
        queue: definition.name,
        data: job.data,
        attempt: job.retryCount,
        signal,
        reportProgress: (percent, message) => this.reportProgress(job.id, definition.name, percent, message),
      });
      if (cancel.signal.aborted || job.signal.aborted) {
        // Cancelled, or given up on by pg-boss (shutdown grace over, expired): not a completion.
        endTimer({ outcome: cancel.signal.aborted ? 'cancelled' : 'abandoned' });
        return result;
      }
      endTimer({ outcome: 'completed' });
      metrics.completed.inc(labels);
      return result;
    } catch (error) {
      if (cancel.signal.aborted || job.signal.aborted) {
        endTimer?.({ outcome: cancel.signal.aborted ? 'cancelled' : 'abandoned' });
      } else {
        endTimer?.({ outcome: 'failed' });
        metrics.failed.inc(labels);
        if (job.retryCount >= job.retryLimit) {
          metrics.deadLettered.inc(labels);
          this.logger.warn(`job ${job.id} of ${definition.name} failed its last attempt and went to ${job.deadLetter}: ${(error as Error).message}`);
        }
      }
      throw error;
    } finally {
      this.running.delete(job.id);
      if (keyed) await this.releaseKeySlot(job.id);
    }
  }

  /**
   * Waits until fewer than `limit` jobs of the key hold a slot. Serialized per key by an advisory
   * lock, so the count read sees every claim committed before; a slot whose job is no longer
   * active (its replica died) is freed on the way.
   */
  private async claimKeySlot(queue: string, key: string, jobId: string, limit: number, signal: AbortSignal): Promise<void> {
    const db = this.boss.getDb();
    for (;;) {
      signal.throwIfAborted();
      const tx = await (db.beginTransaction as NonNullable<typeof db.beginTransaction>).call(db);
      let claimed = false;
      try {
        await tx.db.executeSql(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, [`${this.schema}.${queue}`, key]);
        await tx.db.executeSql(
          `DELETE FROM "${this.schema}".job_key_slot s WHERE s.queue = $1 AND s.key = $2
             AND (s.job_id = $3 OR NOT EXISTS (SELECT 1 FROM "${this.schema}".job j WHERE j.id = s.job_id AND j.state = 'active'))`,
          [queue, key, jobId],
        );
        const { rows } = await tx.db.executeSql(
          `INSERT INTO "${this.schema}".job_key_slot (job_id, queue, key)
           SELECT $3, $1, $2 WHERE (SELECT count(*) FROM "${this.schema}".job_key_slot WHERE queue = $1 AND key = $2) < $4
           RETURNING job_id`,
          [queue, key, jobId, limit],
        );
        claimed = rows.length > 0;
        await tx.commit();
      } catch (error) {
        await tx.rollback();
        throw error;
      }
      if (claimed) return;
      await delay(KEY_SLOT_RETRY_MS, undefined, { signal });
    }
  }

  private async releaseKeySlot(jobId: string): Promise<void> {
    try {
      await this.boss.getDb().executeSql(`DELETE FROM "${this.schema}".job_key_slot WHERE job_id = $1`, [jobId]);
    } catch (error) {
      // The next claim for the key frees it once the job is no longer active.
      this.logger.warn(`Releasing the concurrency slot of job ${jobId} failed: ${(error as Error).message}`);
    }
  }

  private async reportProgress(id: string, queue: string, percent: number, message?: string): Promise<void> {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new RangeError(`progress must be 0..100, got ${percent}`);
    await this.boss.getDb().executeSql(
      `INSERT INTO "${this.schema}".job_progress (job_id, queue, percent, message) VALUES ($1, $2, $3, $4)
       ON CONFLICT (job_id) DO UPDATE SET percent = EXCLUDED.percent, message = EXCLUDED.message, updated_at = now()`,
      [id, queue, Math.round(percent), message ?? null],
    );
  }

  /** Aborts the handlers of jobs this replica runs that are no longer active under its claim. */
  private async abortCancelled(): Promise<void> {
    if (this.running.size === 0) return;
    const ids = [...this.running.keys()];
    try {
      const { rows } = await this.boss
        .getDb()
        .executeSql(`SELECT id, state, retry_count FROM "${this.schema}".job WHERE id = ANY($1::uuid[])`, [ids]);
      const current = new Map((rows as { id: string; state: JobState; retry_count: number }[]).map((row) => [row.id, row]));
      for (const id of ids) {
        const attempt = this.running.get(id);
        const row = current.get(id);
        if (!attempt || (row?.state === 'active' && row.retry_count === attempt.attempt)) continue;
        attempt.cancel.abort(
          row?.state === 'cancelled' ? new JobCancelledError(id) : new Error(`job ${id} is no longer active under this worker`),
        );
      }
    } catch (error) {
      this.logger.warn(`Checking running jobs for cancellation failed: ${(error as Error).message}`);
    }
  }

  /**
   * Fails (so retries, by the queue's policy) the claims of heartbeat queues whose heartbeat has been
   * silent for two of its periods and that no handler of this replica holds. pg-boss's supervise
   * pass does the same after one period, but in the soak a claim made as PostgreSQL shut down (its
   * job never reached a worker) stayed active for minutes after the restart, until its attempt
   * timeout; this keeps that bound whatever keeps pg-boss's pass from it. The attempt is fenced by
   * its retry count, so a claim retried meanwhile is left alone.
   */
  private async failLostClaims(): Promise<void> {
    const queues = [...this.definitions.values()].filter((definition) => definition.heartbeat).map((definition) => definition.name);
    if (!queues.length || this.stopping) return;
    try {
      const { rows } = await this.boss.getDb().executeSql(
        `SELECT name, id, retry_count FROM "${this.schema}".job
         WHERE name = ANY($1::text[]) AND state = 'active' AND heartbeat_seconds IS NOT NULL
           AND heartbeat_on + heartbeat_seconds * 2 * interval '1 second' < now()`,
        [queues],
      );
      for (const row of rows as { name: string; id: string; retry_count: number }[]) {
        if (this.running.has(row.id)) continue;
        await this.boss.fail(row.name, { id: row.id, retryCount: row.retry_count }, { message: 'its claim went silent (no heartbeat): retried' });
        this.logger.warn(`job ${row.id} of ${row.name}: its claim went silent (no heartbeat for two periods), failed so that it is retried`);
      }
    } catch (error) {
      this.logger.warn(`Checking for silent job claims failed: ${(error as Error).message}`);
    }
  }

  /** Our tables beside pg-boss's, under a transaction-scoped advisory lock since replicas start together. */
  private async createTables(): Promise<void> {
    await this.boss.getDb().executeSql(`
      DO $$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('${this.schema}.tables'));
        CREATE TABLE IF NOT EXISTS "${this.schema}".job_progress (
          job_id uuid PRIMARY KEY,
          queue text NOT NULL,
          percent smallint NOT NULL CHECK (percent BETWEEN 0 AND 100),
          message text,
          updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS job_progress_updated_at ON "${this.schema}".job_progress (updated_at);
        CREATE TABLE IF NOT EXISTS "${this.schema}".job_key_slot (
          job_id uuid PRIMARY KEY,
          queue text NOT NULL,
          key text NOT NULL,
          claimed_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX IF NOT EXISTS job_key_slot_queue_key ON "${this.schema}".job_key_slot (queue, key);
      END
      $$`);
  }

  private async removeOldProgress(): Promise<void> {
    try {
      const { rows } = await this.boss.getDb().executeSql(
        `WITH deleted AS (DELETE FROM "${this.schema}".job_progress WHERE updated_at < now() - make_interval(days => $1) RETURNING 1)
         SELECT count(*)::int AS count FROM deleted`,
        [this.config.JOBS_PROGRESS_RETENTION_DAYS],
      );
      retentionRan(PROGRESS_RETENTION_JOB, { rows: { job_progress: (rows as { count: number }[])[0].count } });
    } catch (error) {
      this.logger.warn(`Removing old job progress failed: ${(error as Error).message}`);
    }
  }

  private async queueSizes(): Promise<{ service: string; queue: string; state: string; count: number }[]> {
    const sizes: { service: string; queue: string; state: string; count: number }[] = [];
    const queues = [...this.definitions.keys()].flatMap((name) => [name, deadLetterQueue(name)]);
    for (const queue of queues) {
      const [stats] = await this.boss.getQueueStats(queue, { force: true });
      if (!stats) continue;
      const counts = { deferred: stats.deferredCount, ready: stats.readyCount, active: stats.activeCount, failed: stats.failedCount };
      for (const [state, count] of Object.entries(counts)) sizes.push({ service: this.options.service, queue, state, count });
    }
    return sizes;
  }
}

function snapshot<T>(job: JobWithMetadata<T>): JobSnapshot<T> {
  return {
    id: job.id,
    queue: job.name,
    data: job.data,
    state: job.state,
    retryCount: job.retryCount,
    output: job.output,
    sourceId: job.sourceId,
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
