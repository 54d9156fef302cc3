import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { ConfigModule, baseEnv, databaseEnv, loadConfig } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { metricsRegistry } from '@multipult/observability';
import { TestDatabase, createTestDatabase, eventually, startTcpProxy } from '@multipult/testing';
import { JobCancelledError, JobQueue, PROGRESS_RETENTION_JOB, RunningJob, jobsSchema } from './job-queue';
import { jobsEnv } from './jobs-env';
import { JobsModule } from './jobs.module';

// Replicas of one service as the apps would wire them (config, database, jobs), each a Nest
// application context with its own PgBoss, against the real PostgreSQL of the jest global setup.

const SERVICE = 'jobs-spec';
const SCHEMA = jobsSchema(SERVICE);
const serviceEnv = z.object({ ...baseEnv, ...databaseEnv, ...jobsEnv });

class CreateOrders1700000000001 implements MigrationInterface {
  name = 'CreateOrders1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE orders`);
  }
}

const QUEUE_SETUP = Symbol('QUEUE_SETUP');
type QueueSetup = (jobs: JobQueue) => Promise<void>;

/** A feature module: defines its queues in onModuleInit, as services do. */
@Injectable()
class FeatureQueues implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueue,
    @Inject(QUEUE_SETUP) private readonly setup: QueueSetup,
  ) {}

  onModuleInit(): Promise<void> {
    return this.setup(this.jobs);
  }
}

@Module({})
class FeatureModule {
  static with(setup: QueueSetup) {
    return { module: FeatureModule, providers: [{ provide: QUEUE_SETUP, useValue: setup }, FeatureQueues] };
  }
}

interface Replica {
  jobs: JobQueue;
  dataSource: DataSource;
  close(): Promise<void>;
}

describe('JobQueue', () => {
  let database: TestDatabase;
  const replicas: Replica[] = [];
  let queueCounter = 0;

  beforeAll(async () => {
    database = await createTestDatabase('lib_jobs');
  });

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  });

  afterAll(async () => {
    await database?.drop();
  });

  const uniqueQueue = (what: string) => `${what}-${++queueCounter}`;

  async function startReplica(
    setup: QueueSetup = async () => undefined,
    env: Record<string, string> = {},
    overrides: Partial<z.output<typeof serviceEnv>> = {},
  ): Promise<Replica> {
    const loaded = loadConfig(serviceEnv, {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      JOBS_POLL_INTERVAL_SECONDS: '0.5',
      JOBS_CRON_INTERVAL_SECONDS: '1',
      JOBS_CANCEL_CHECK_MS: '200',
      ...env,
    });
    const config = { ...loaded, ...overrides };
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot({ service: SERVICE, schema: 'shop', entities: [], migrations: [CreateOrders1700000000001] }),
        JobsModule.forRoot({ service: SERVICE }),
        FeatureModule.with(setup),
      ],
    }).compile();
    moduleRef.useLogger(false);
    try {
      await moduleRef.init();
    } catch (error) {
      // Stops whatever did start (a PgBoss polls until stopped).
      await moduleRef.close().catch(() => undefined);
      throw error;
    }
    let closed: Promise<void> | undefined;
    const replica: Replica = {
      jobs: moduleRef.get(JobQueue),
      dataSource: moduleRef.get(DataSource),
      close: () => (closed ??= moduleRef.close()),
    };
    replicas.push(replica);
    return replica;
  }

  /** Reads the jobs schema directly, as an operator would. */
  async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async function counterValue(name: string, queue: string): Promise<number> {
    const metric = metricsRegistry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    return values.filter((value) => value.labels.queue === queue).reduce((sum, value) => sum + value.value, 0);
  }

  async function retentionSample(name: string, labels: Record<string, string>): Promise<number> {
    const { values } = (await metricsRegistry.getSingleMetric(name)?.get()) ?? { values: [] };
    return values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value ?? 0;
  }

  it('enqueues in the business transaction: a rollback leaves no job, a commit runs it', async () => {
    const queue = uniqueQueue('orders');
    const handled: { item: string; ordered: number }[] = [];
    const replica = await startReplica(async (jobs) => {
      await jobs.define<{ item: string }>({
        name: queue,
        handler: async (job) => {
          // The business row the job was enqueued with is visible to it.
          const [{ count }] = await sql<{ count: number }>(`SELECT count(*)::int AS count FROM shop.orders WHERE item = $1`, [job.data.item]);
          handled.push({ item: job.data.item, ordered: count });
        },
      });
    });
    const dataSource = replica.dataSource;

    let rolledBackId: string | null = null;
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO orders (item) VALUES ($1)`, ['lamp']);
        rolledBackId = await replica.jobs.enqueue(queue, { item: 'lamp' }, { tx: manager });
        // Written on the transaction's connection: visible inside it...
        const inside = await manager.query(`SELECT count(*)::int AS count FROM "${SCHEMA}".job WHERE id = $1`, [rolledBackId]);
        expect(inside[0].count).toBe(1);
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    // ...and gone with it.
    expect(rolledBackId).toEqual(expect.any(String));
    expect(await replica.jobs.find(queue, rolledBackId as unknown as string)).toBeUndefined();
    expect(await sql(`SELECT id FROM "${SCHEMA}".job WHERE name = $1`, [queue])).toEqual([]);

    const committedId = await dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO orders (item) VALUES ($1)`, ['chair']);
      return replica.jobs.enqueue(queue, { item: 'chair' }, { tx: manager });
    });

    await eventually('the committed job to complete', async () => (await replica.jobs.find(queue, committedId as string))?.state === 'completed', 30_000);
    expect(handled).toEqual([{ item: 'chair', ordered: 1 }]);
    expect(await replica.jobs.find(queue, rolledBackId as unknown as string)).toBeUndefined();
  });

  it('runs no jobs on a replica with JOBS_WORKERS_ENABLED=false: what it enqueues runs on a replica with workers', async () => {
    const queue = uniqueQueue('served');
    const handledBy: string[] = [];
    const define = (replicaName: string) => async (jobs: JobQueue) =>
      jobs.define<{ item: string }>({ name: queue, handler: async () => void handledBy.push(replicaName) });
    const serving = await startReplica(define('serving'), { JOBS_WORKERS_ENABLED: 'false' });
    const ids = [await serving.jobs.enqueue(queue, { item: 'lamp' }), await serving.jobs.enqueue(queue, { item: 'chair' })];
    serving.jobs.wake(queue);
    await startReplica(define('worker'));

    await eventually('both jobs to complete', async () => {
      const states = await Promise.all(ids.map(async (id) => (await serving.jobs.find(queue, id as string))?.state));
      return states.every((state) => state === 'completed');
    }, 30_000);
    expect(handledBy).toEqual(['worker', 'worker']);
    // A worker looks for jobs as soon as it starts: this replica never looked.
    expect(serving.jobs.lastFetchedAt(queue)).toBeNull();
  });

  it("enqueues many jobs in one statement of the business transaction, deduplicated by the queue's policy; a rollback leaves none", async () => {
    const queue = uniqueQueue('many');
    const handled: string[] = [];
    const replica = await startReplica((jobs) =>
      jobs.define<{ item: string }>({ name: queue, policy: 'exclusive', handler: async (job) => void handled.push(job.data.item) }),
    );
    const jobs = (items: string[]) => items.map((item) => ({ data: { item }, singletonKey: item }));

    await expect(
      replica.dataSource.transaction(async (manager) => {
        await replica.jobs.enqueueMany(queue, jobs(['lamp', 'desk']), { tx: manager });
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    expect(await sql(`SELECT id FROM "${SCHEMA}".job WHERE name = $1`, [queue])).toEqual([]);

    await replica.dataSource.transaction((manager) => replica.jobs.enqueueMany(queue, jobs(['chair', 'table', 'chair']), { tx: manager }));
    await eventually('both jobs to complete', () => handled.length >= 2, 30_000);
    expect(handled.sort()).toEqual(['chair', 'table']);
    expect(await sql(`SELECT singleton_key FROM "${SCHEMA}".job WHERE name = $1 ORDER BY singleton_key`, [queue])).toEqual([
      { singleton_key: 'chair' },
      { singleton_key: 'table' },
    ]);
  });

  it('picks a job up at once when woken, instead of at the next poll', async () => {
    const queue = uniqueQueue('woken');
    const started: number[] = [];
    const replica = await startReplica(
      async (jobs) => {
        await jobs.define({ name: queue, handler: async () => void started.push(Date.now()) });
      },
      { JOBS_POLL_INTERVAL_SECONDS: '10' },
    );
    // After the worker's first look for jobs, its next one would come only after the 10 s poll.
    await eventually("the worker's first look for jobs", () => replica.jobs.lastFetchedAt(queue) !== null, 10_000);
    const enqueuedAt = Date.now();
    await replica.jobs.enqueue(queue, {});
    replica.jobs.wake(queue);
    await eventually('the woken worker to run the job', () => started.length === 1, 5_000);
    expect(started[0] - enqueuedAt).toBeLessThan(2_000);
  });

  it("fails an enqueue within the socket timeout when the database goes silent, and enqueues again once it is back", async () => {
    const queue = uniqueQueue('silence');
    const ran: number[] = [];
    const url = new URL(database.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${proxy.port}`;
    try {
      const replica = await startReplica(
        async (jobs) => {
          await jobs.define({ name: queue, handler: async (job: RunningJob<{ n: number }>) => void ran.push(job.data.n) });
        },
        { DATABASE_URL: url.toString() },
        // Below what the config allows (35 s), to keep the test short.
        { DATABASE_SOCKET_TIMEOUT_MS: 1_500 },
      );
      proxy.cut('silence');
      const started = Date.now();
      await expect(replica.jobs.enqueue(queue, { n: 1 })).rejects.toThrow('Connection terminated unexpectedly');
      expect(Date.now() - started).toBeLessThan(1_500 + 3_000);
      proxy.restore();
      await replica.jobs.enqueue(queue, { n: 2 });
      replica.jobs.wake(queue);
      await eventually('the job enqueued after the silence to run', () => ran.includes(2), 10_000);
      // The first one may have run too: its INSERT was sent, waited in the network and arrived once it was
      // back. A statement failed by the socket timeout has an unknown outcome, as after any lost connection.
    } finally {
      await Promise.all(replicas.splice(0).map((replica) => replica.close()));
      await proxy.close();
    }
  });

  it('drains a backlog without waiting a poll between jobs: each worker fetches again as soon as its job is done', async () => {
    const queue = uniqueQueue('backlog');
    let done = 0;
    const replica = await startReplica(
      async (jobs) => {
        await jobs.define({ name: queue, concurrency: 2, handler: async () => void done++ });
      },
      { JOBS_POLL_INTERVAL_SECONDS: '5' },
    );
    await eventually("the workers' first look for jobs", () => replica.jobs.lastFetchedAt(queue) !== null, 10_000);
    await replica.jobs.enqueueMany(queue, Array.from({ length: 40 }, (_, index) => ({ data: { index } })));
    const startedAt = Date.now();
    replica.jobs.wake(queue);
    // At one job per worker per poll, 40 jobs on 2 workers would take 100 s.
    await eventually('the backlog drained', () => done === 40, 15_000);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('refuses a tx that is not an open transaction', async () => {
    const queue = uniqueQueue('no-tx');
    const replica = await startReplica((jobs) => jobs.define({ name: queue, handler: async () => undefined }));

    await expect(replica.jobs.enqueue(queue, {}, { tx: replica.dataSource.manager })).rejects.toThrow(/open transaction/);
  });

  it('retries a failing job with exponential backoff, then moves it to <name>.dead', async () => {
    const queue = uniqueQueue('flaky');
    const attempts: { attempt: number; at: number }[] = [];
    const replica = await startReplica((jobs) =>
      jobs.define<{ invoice: number }>({
        name: queue,
        retryLimit: 2,
        retryDelaySeconds: 1,
        retryBackoff: true,
        retryDelayMaxSeconds: 30,
        handler: async (job) => {
          attempts.push({ attempt: job.attempt, at: Date.now() });
          throw new Error(`smtp down (attempt ${job.attempt})`);
        },
      }),
    );
    const deadBefore = await counterValue('jobs_dead_lettered_total', queue);

    const id = (await replica.jobs.enqueue(queue, { invoice: 7 })) as string;

    const [dead] = await eventually('the job in the dead-letter queue', async () => {
      const letters = await replica.jobs.deadLetters<{ invoice: number }>(queue);
      return letters.length > 0 && letters;
    }, 60_000);
    expect(dead).toMatchObject({ queue: `${queue}.dead`, data: { invoice: 7 }, sourceId: id, state: 'created' });
    expect(await replica.jobs.find(queue, id)).toMatchObject({ state: 'failed', retryCount: 2 });
    expect(attempts.map((attempt) => attempt.attempt)).toEqual([0, 1, 2]);
    // Delay before retry n is retryDelay * 2^n / 2 * (1 + jitter): 1-2 s, then 2-4 s.
    const firstGap = attempts[1].at - attempts[0].at;
    const secondGap = attempts[2].at - attempts[1].at;
    expect(firstGap).toBeGreaterThanOrEqual(900);
    expect(secondGap).toBeGreaterThanOrEqual(1_900);
    expect(await counterValue('jobs_dead_lettered_total', queue)).toBe(deadBefore + 1);
    expect(await counterValue('jobs_failed_total', queue)).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it('reports progress written by the handler, readable from another replica', async () => {
    const queue = uniqueQueue('export');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const worker = await startReplica((jobs) =>
      jobs.define({
        name: queue,
        handler: async (job) => {
          await job.reportProgress(40, 'rows 400 of 1000');
          await released;
          await job.reportProgress(100, 'done');
        },
      }),
    );
    const reader = await startReplica();

    const id = (await worker.jobs.enqueue(queue, {})) as string;

    expect(await eventually('progress 40', async () => {
      const progress = await reader.jobs.progress(id);
      return progress?.percent === 40 && progress;
    })).toMatchObject({ percent: 40, message: 'rows 400 of 1000', updatedAt: expect.any(Date) });
    release();
    await eventually('the job to complete', async () => (await reader.jobs.find(queue, id))?.state === 'completed');
    expect(await reader.jobs.progress(id)).toMatchObject({ percent: 100, message: 'done' });
  });

  it('deletes progress past JOBS_PROGRESS_RETENTION_DAYS at start and reports it in the retention metrics', async () => {
    await startReplica();
    const [old, young] = [randomUUID(), randomUUID()];
    await sql(
      `INSERT INTO "${SCHEMA}".job_progress (job_id, queue, percent, updated_at) VALUES ($1, 'old', 100, now() - interval '15 days'), ($2, 'young', 100, now() - interval '13 days')`,
      [old, young],
    );
    const deletedBefore = await retentionSample('retention_deleted_rows_total', { job: PROGRESS_RETENTION_JOB, table: 'job_progress' });
    const startedAt = Date.now() / 1000;

    await startReplica(async () => undefined, { JOBS_PROGRESS_RETENTION_DAYS: '14' });

    const left = await sql<{ job_id: string }>(`SELECT job_id FROM "${SCHEMA}".job_progress WHERE job_id = ANY($1::uuid[])`, [[old, young]]);
    expect(left.map((row) => row.job_id)).toEqual([young]);
    expect(await retentionSample('retention_deleted_rows_total', { job: PROGRESS_RETENTION_JOB, table: 'job_progress' })).toBe(deletedBefore + 1);
    expect(await retentionSample('retention_last_run_timestamp_seconds', { job: PROGRESS_RETENTION_JOB })).toBeGreaterThanOrEqual(startedAt);
    expect(await retentionSample('retention_interval_seconds', { job: PROGRESS_RETENTION_JOB })).toBe(3_600);
  });

  it('cancels a queued job before it runs', async () => {
    const queue = uniqueQueue('later');
    const ran: string[] = [];
    const replica = await startReplica((jobs) => jobs.define({ name: queue, handler: async (job) => void ran.push(job.id) }));

    const id = (await replica.jobs.enqueue(queue, {}, { startAfter: 3_600 })) as string;
    expect(await replica.jobs.find(queue, id)).toMatchObject({ state: 'created' });

    expect(await replica.jobs.cancel(queue, id)).toBe(true);

    expect(await replica.jobs.find(queue, id)).toMatchObject({ state: 'cancelled' });
    expect(await replica.jobs.cancel(queue, id)).toBe(false);
    expect(ran).toEqual([]);
  });

  it('cancels a running job from another replica: the handler signal fires and the job stays cancelled', async () => {
    const queue = uniqueQueue('long');
    const started: string[] = [];
    let abortReason: unknown;
    const worker = await startReplica((jobs) =>
      jobs.define({
        name: queue,
        handler: (job: RunningJob<object>) =>
          new Promise((_resolve, reject) => {
            started.push(job.id);
            job.signal.addEventListener('abort', () => {
              abortReason = job.signal.reason;
              reject(job.signal.reason);
            });
          }),
      }),
    );
    const other = await startReplica();

    const id = (await worker.jobs.enqueue(queue, {})) as string;
    await eventually('the handler to start', () => started.includes(id));

    expect(await other.jobs.cancel(queue, id)).toBe(true);

    await eventually('the handler to be aborted', () => abortReason !== undefined, 10_000);
    expect(abortReason).toBeInstanceOf(JobCancelledError);
    // The handler's rejection neither fails nor retries a cancelled job.
    await eventually('the worker to let go of the job', async () => {
      const [row] = await sql<{ state: string }>(`SELECT state FROM "${SCHEMA}".job WHERE id = $1`, [id]);
      return row.state === 'cancelled';
    });
    expect(await worker.jobs.find(queue, id)).toMatchObject({ state: 'cancelled', retryCount: 0 });
    expect(await worker.jobs.deadLetters(queue)).toEqual([]);
  });

  it('fires a cron schedule once across two replicas that both schedule it', async () => {
    const queue = uniqueQueue('nightly');
    const runs: { replica: string; data: unknown }[] = [];
    // An occurrence a few seconds ahead (6-field cron, with seconds): every cron pass of the next
    // minute finds it due, on whichever replica claims the pass.
    const due = new Date(Date.now() + 4_000);
    const cron = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
    const setup = (replica: string) => async (jobs: JobQueue) => {
      await jobs.define({ name: queue, handler: async (job) => void runs.push({ replica, data: job.data }) });
      await jobs.schedule(queue, cron, { sweep: 'privacy' });
    };
    await startReplica(setup('a'));
    await startReplica(setup('b'));

    await eventually('the scheduled job to run', () => runs.length > 0, 60_000);
    const ranAt = new Date();
    // Several more passes, all inside the occurrence's due window.
    await eventually('three more cron passes', async () => {
      const [{ cron_on }] = await sql<{ cron_on: Date }>(`SELECT cron_on FROM "${SCHEMA}".version`);
      return cron_on.getTime() > ranAt.getTime() + 3_000;
    }, 30_000);
    await eventually('the queue to be idle', async () => {
      const [{ pending }] = await sql<{ pending: number }>(
        `SELECT count(*)::int AS pending FROM "${SCHEMA}".job WHERE name IN ($1, '__pgboss__send-it') AND state < 'completed'`,
        [queue],
      );
      return pending === 0;
    });

    expect(runs).toEqual([{ replica: expect.stringMatching(/^[ab]$/), data: { sweep: 'privacy' } }]);
    expect(await sql(`SELECT id FROM "${SCHEMA}".job WHERE name = $1`, [queue])).toHaveLength(1);
  }, 90_000);

  it('runs a recurring job every N seconds (under a minute) on one replica at a time, however many define it', async () => {
    const queue = uniqueQueue('sweep');
    const starts: { replica: string; at: number }[] = [];
    const setup = (replica: string) => async (jobs: JobQueue) => {
      await jobs.defineRecurring({
        name: queue,
        everySeconds: 1,
        handler: async () => {
          starts.push({ replica, at: Date.now() });
          await delay(200);
        },
      });
    };
    await startReplica(setup('a'));
    await startReplica(setup('b'));
    // The runs each replica queued at start merge into one chain once the first has run.
    await eventually('the first runs', () => starts.length >= 2, 30_000);
    const from = Date.now() + 1_500;
    const window = await eventually('five runs after the chains merged', () => {
      const later = starts.filter((start) => start.at >= from);
      return later.length >= 5 && later.slice(0, 5);
    }, 30_000);

    // One chain: a run about every 1 to 1.5 s (1 s apart plus up to one poll). Two chains would start
    // runs about half a second apart; none at all would leave gaps of the whole poll-and-restart time.
    const gaps = window.slice(1).map((start, index) => start.at - window[index].at);
    // Never two at once: each run starts well after the previous one (200 ms long) began.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...gaps)).toBeLessThan(4_000);
  }, 60_000);

  it('never starts a recurring run while another is under way, even one a starting replica queued', async () => {
    const queue = uniqueQueue('long-sweep');
    const runs: { replica: string; start: number; end?: number }[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const setup = (replica: string) => async (jobs: JobQueue) => {
      await jobs.defineRecurring({
        name: queue,
        everySeconds: 3_600,
        handler: async () => {
          const run: (typeof runs)[number] = { replica, start: Date.now() };
          runs.push(run);
          if (runs.length === 1) await firstHeld;
          run.end = Date.now();
        },
      });
    };
    await startReplica(setup('a'));
    await eventually('the first run', () => runs.length === 1, 30_000);
    // While it runs, nothing is queued (the next run is queued as it ends), so the start of
    // replica b queues a run that is due now and wakes b's worker for it.
    await startReplica(setup('b'));
    // Done with: only the first run is due or running; what b queued has been handled.
    await eventually('the run b queued to be handled', async () => {
      const [{ open }] = await sql<{ open: number }>(`SELECT count(*)::int AS open FROM "${SCHEMA}".job WHERE name = $1 AND state IN ('created', 'active') AND start_after <= now()`, [queue]);
      return open === 1;
    }, 10_000);
    releaseFirst();
    await eventually('the first run to end', () => runs[0].end !== undefined);
    expect(runs).toHaveLength(1);
    // The chain goes on: one run queued an hour ahead.
    const queued = await sql<{ start_after: Date }>(`SELECT start_after FROM "${SCHEMA}".job WHERE name = $1 AND state = 'created'`, [queue]);
    expect(queued).toHaveLength(1);
    expect(queued[0].start_after.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
  }, 60_000);

  it('starts a run the cron or a starting replica queued no sooner than a period after the last run', async () => {
    const queue = uniqueQueue('spaced-sweep');
    const starts: number[] = [];
    const replica = await startReplica(async (jobs) =>
      jobs.defineRecurring({ name: queue, everySeconds: 3_600, handler: async () => void starts.push(Date.now()) }),
    );
    await eventually('the first run', () => starts.length === 1, 30_000);
    const queuedRun = async () => sql<{ id: string; start_after: Date }>(`SELECT id, start_after FROM "${SCHEMA}".job WHERE name = $1 AND state = 'created'`, [queue]);
    const [next] = await eventually('the next run queued', async () => {
      const queued = await queuedRun();
      return queued.length === 1 && queued;
    });
    // What the per-minute cron or a starting replica queues while a run is under way, taken just after it ended: due now, not chained.
    await sql(`UPDATE "${SCHEMA}".job SET start_after = now(), data = '{}' WHERE id = $1`, [next.id]);
    replica.jobs.wake(queue);
    await eventually('that run handled', async () => {
      const [{ handled }] = await sql<{ handled: number }>(`SELECT count(*)::int AS handled FROM "${SCHEMA}".job WHERE name = $1 AND state = 'completed'`, [queue]);
      return handled === 2;
    });
    expect(starts).toHaveLength(1);
    // The chain goes on from the last run: its next start a period after that one's.
    const queued = await queuedRun();
    expect(queued).toHaveLength(1);
    expect(queued[0].start_after.getTime()).toBeGreaterThan(starts[0] + 3_500_000);
  }, 60_000);

  it('holds the recurring chain behind a run whose replica died only until its heartbeat lapses, not until its attempt timeout', async () => {
    const queue = uniqueQueue('orphaned-sweep');
    const starts: number[] = [];
    const setup = (jobs: JobQueue) => jobs.defineRecurring({ name: queue, everySeconds: 1, handler: async () => void starts.push(Date.now()) });
    const env = { JOBS_SUPERVISE_INTERVAL_SECONDS: '1', JOBS_HEARTBEAT_SECONDS: '10' };
    const dying = await startReplica(setup, env);
    await eventually('the first run', () => starts.length >= 1, 30_000);
    await dying.close();
    // Taken before the claim below, so the orphan's heartbeat_on is no earlier than this.
    const orphanedAt = Date.now();
    // What a replica killed as it claimed the next run leaves (or one whose claim's answer the database lost as it restarted): the run active, no heartbeat after the claim.
    const orphans = await sql<{ id: string; heartbeat_seconds: number }>(
      `UPDATE "${SCHEMA}".job SET state = 'active', start_after = now(), started_on = now(), heartbeat_on = now() WHERE name = $1 AND state = 'created' RETURNING id, heartbeat_seconds`,
      [queue],
    );
    expect(orphans).toEqual([{ id: expect.any(String), heartbeat_seconds: 10 }]);
    const before = starts.length;
    // Its replacement starts and queues a run, which finds the orphan under way and only keeps the chain going.
    await startReplica(setup, env);
    const replacementUpAt = Date.now();
    await eventually('a run after the orphaned one', () => starts.length > before, 75_000);
    // Never while the orphan may still be running (its heartbeat is 10 s).
    expect(starts[before] - orphanedAt).toBeGreaterThanOrEqual(10_000);
    // Then at one of the replacement's supervise passes: pg-boss's after one silent period, or the replica's
    // own after two when pg-boss's pass does not act (docs/verification.md: it did not once, in the soak),
    // about 21 s plus a run's start; the bound leaves a loaded machine room and is still far from the
    // 15-minute attempt timeout. Only the replacement supervises, so a slow start counts from its end.
    expect(starts[before] - Math.max(orphanedAt, replacementUpAt)).toBeLessThan(45_000);
    expect(await sql(`SELECT state FROM "${SCHEMA}".job WHERE id = $1`, [orphans[0].id])).toEqual([{ state: 'failed' }]);
  }, 120_000);

  it('holds each concurrency key to its limit across two replicas under load', async () => {
    const queue = uniqueQueue('per-tenant');
    const running = new Map<string, number>();
    const maxPerKey = new Map<string, number>();
    let runningOverall = 0;
    let maxOverall = 0;
    const done: string[] = [];
    const setup = async (jobs: JobQueue) =>
      jobs.define<{ tenant: string; n: number }>({
        name: queue,
        concurrency: 4,
        concurrencyPerKey: 1,
        handler: async (job) => {
          const { tenant } = job.data;
          running.set(tenant, (running.get(tenant) ?? 0) + 1);
          runningOverall += 1;
          maxPerKey.set(tenant, Math.max(maxPerKey.get(tenant) ?? 0, running.get(tenant) ?? 0));
          maxOverall = Math.max(maxOverall, runningOverall);
          // The work itself takes a while, so jobs of both tenants overlap.
          await delay(150);
          running.set(tenant, (running.get(tenant) ?? 0) - 1);
          runningOverall -= 1;
          done.push(`${tenant}-${job.data.n}`);
        },
      });
    const first = await startReplica(setup);
    await startReplica(setup);

    for (let n = 0; n < 6; n += 1) {
      for (const tenant of ['tenant-a', 'tenant-b']) {
        await first.jobs.enqueue(queue, { tenant, n }, { concurrencyKey: tenant });
      }
    }

    await eventually('all twelve jobs to finish', () => done.length === 12, 60_000);
    expect(maxPerKey).toEqual(new Map([['tenant-a', 1], ['tenant-b', 1]]));
    // A positive control: the limit is per key, not a global one.
    expect(maxOverall).toBe(2);
  }, 90_000);

  it('finishes an in-flight job on graceful shutdown before closing', async () => {
    const queue = uniqueQueue('report');
    let started = false;
    let shuttingDown = false;
    const worker = await startReplica(
      (jobs) =>
        jobs.define({
          name: queue,
          handler: async () => {
            started = true;
            await eventually('shutdown to begin', () => shuttingDown);
            // Work that is still under way when the shutdown starts.
            await delay(500);
            return { rows: 42 };
          },
        }),
      { SHUTDOWN_GRACE_SECONDS: '20' },
    );
    const observer = await startReplica();
    const id = (await worker.jobs.enqueue(queue, {})) as string;
    await eventually('the handler to start', () => started);

    shuttingDown = true;
    await worker.close();

    expect(await observer.jobs.find(queue, id)).toMatchObject({ state: 'completed', output: { rows: 42 } });
  }, 60_000);

  it('returns a job that outlives the shutdown grace period to the queue for another replica', async () => {
    const queue = uniqueQueue('slow');
    const attempts: { replica: string; attempt: number }[] = [];
    const setup = (replica: string, hang: boolean) => (jobs: JobQueue) =>
      jobs.define({
        name: queue,
        retryDelaySeconds: 0,
        handler: async (job) => {
          attempts.push({ replica, attempt: job.attempt });
          // Ends when shutdown gives up on it (the signal) rather than on its own.
          if (hang) await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
        },
      });
    const leaving = await startReplica(setup('leaving', true), { SHUTDOWN_GRACE_SECONDS: '1' });
    const id = (await leaving.jobs.enqueue(queue, {})) as string;
    await eventually('the handler to start', () => attempts.length === 1);
    await leaving.close();

    const staying = await startReplica(setup('staying', false));

    await eventually('another replica to complete the job', async () => (await staying.jobs.find(queue, id))?.state === 'completed', 30_000);
    expect(attempts).toEqual([
      { replica: 'leaving', attempt: 0 },
      { replica: 'staying', attempt: 1 },
    ]);
  }, 60_000);

  /**
   * A heartbeat queue (10 s) on a replica supervising every second, and one of its jobs left as a
   * claim whose worker is gone leaves it: active, its last heartbeat a minute old.
   */
  async function silentClaim(name: string, beforeSilencing: (queue: string) => Promise<unknown> = async () => undefined) {
    const queue = uniqueQueue(name);
    const attempts: number[] = [];
    const replica = await startReplica(
      (jobs) => jobs.define({ name: queue, retryDelaySeconds: 0, expireInSeconds: 3_600, heartbeat: true, handler: async (job) => void attempts.push(job.attempt) }),
      { JOBS_SUPERVISE_INTERVAL_SECONDS: '1', JOBS_HEARTBEAT_SECONDS: '10' },
    );
    const id = (await replica.jobs.enqueue(queue, {}, { startAfter: 3_600 })) as string;
    expect(await sql(`SELECT heartbeat_seconds FROM "${SCHEMA}".job WHERE id = $1`, [id])).toEqual([{ heartbeat_seconds: 10 }]);
    await beforeSilencing(queue);
    await sql(
      `UPDATE "${SCHEMA}".job SET state = 'active', start_after = now(), started_on = now() - interval '1 minute', heartbeat_on = now() - interval '1 minute' WHERE id = $1`,
      [id],
    );
    return { completed: async () => (await replica.jobs.find(queue, id))?.state === 'completed', attempts };
  }

  it('retries a job whose worker stopped beating (its replica died mid-job) at the next supervise pass, not at its attempt timeout', async () => {
    const claim = await silentClaim('orphaned');
    await eventually('the orphaned job to be retried and completed', claim.completed, 30_000);
    expect(claim.attempts).toEqual([1]);
  }, 60_000);

  it('retries a silent claim itself when pg-boss\'s supervise pass does not reach it', async () => {
    // pg-boss's pass claims a queue only once its last claim is an interval old: one a day ahead keeps it
    // away. The claim stands for one no worker received (made as the database went down).
    const claim = await silentClaim('silent-claim', (queue) => sql(`UPDATE "${SCHEMA}".queue SET monitor_claim_on = now() + interval '1 day' WHERE name = $1`, [queue]));
    await eventually('the silent claim to be retried and completed', claim.completed, 30_000);
    expect(claim.attempts).toEqual([1]);
  }, 60_000);

  it('gives jobs no heartbeat unless their queue asks for one', async () => {
    const queue = uniqueQueue('no-heartbeat');
    const replica = await startReplica((jobs) => jobs.define({ name: queue, handler: async () => undefined }), { JOBS_HEARTBEAT_SECONDS: '10' });
    const id = (await replica.jobs.enqueue(queue, {}, { startAfter: 3_600 })) as string;
    expect(await sql(`SELECT heartbeat_seconds FROM "${SCHEMA}".job WHERE id = $1`, [id])).toEqual([{ heartbeat_seconds: null }]);
  }, 60_000);

  it('exposes queue sizes by state to Prometheus', async () => {
    const queue = uniqueQueue('gauge');
    const replica = await startReplica((jobs) => jobs.define({ name: queue, handler: async () => undefined }));
    await replica.jobs.enqueue(queue, {}, { startAfter: 3_600 });
    await replica.jobs.enqueue(queue, {}, { startAfter: 3_600 });

    const text = await metricsRegistry.getSingleMetricAsString('jobs_queue_size');

    expect(text).toContain(`jobs_queue_size{service="${SERVICE}",queue="${queue}",state="deferred"} 2`);
    expect(text).toContain(`jobs_queue_size{service="${SERVICE}",queue="${queue}.dead",state="ready"} 0`);
  });
});
