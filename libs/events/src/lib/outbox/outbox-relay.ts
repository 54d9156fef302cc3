import { Logger } from '@nestjs/common';
import { Client, ClientConfig } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { BackoffOptions, backoffCeiling, equalJitterDelay } from '../backoff';
import { errorText } from '../error-text';
import { outboxMetrics } from '../metrics';
import { qualifiedTableName } from '../table-path';
import { EventTransport, OutgoingMessage } from '../transport/event-transport';
import { OutboxMessage } from './outbox-message.entity';
import { outboxNotifyChannel, registerLocalRelay } from './outbox-writer';

export interface OutboxRelayOptions {
  /** Fallback wake-up when none arrives (listener down, a notification lost, a writer whose process stopped its relay). */
  pollIntervalMs: number;
  batchSize: number;
  /** Delay between attempts while publishing keeps failing. */
  retryBackoff?: BackoffOptions;
  /**
   * false: start() relays nothing, and this process's writers wake other processes' relays with
   * NOTIFY, e.g. replicas serving requests while a few others relay. Default true.
   */
  enabled?: boolean;
}

type PostgresConnectionOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

interface ClaimedRow {
  id: string;
  topic: string;
  message_key: string;
  envelope: unknown;
  headers: Record<string, string>;
  /** Seconds since the row's writing transaction began, when claimed (the database's clock). */
  age_seconds: number;
  /** An earlier row of the same key is being published by another replica: this one waits for it. */
  blocked: boolean;
}

type BatchOutcome = { published: number; blocked: number } | { failed: unknown };

const DEFAULT_RETRY_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };
/**
 * How soon to claim again rows that waited for another replica's batch of the same keys: that batch
 * is being published now and takes milliseconds, while that replica's commit wakes nobody here (its
 * own relay takes what its process writes). Doubling up to the poll interval, should it take long.
 */
const BLOCKED_RETRY_INITIAL_MS = 20;
const LAST_ERROR_MAX_LENGTH = 2_000;
/** The gauges cost a query over the pending rows: under load, not after every batch. */
const GAUGE_REFRESH_MS = 1_000;

/**
 * Publishes committed outbox rows, oldest first, and marks them published. Safe to run in every
 * replica: rows are claimed with FOR UPDATE SKIP LOCKED, and a row waits while an earlier row with
 * the same key is still pending elsewhere, so events of one aggregate keep their order.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly metrics = outboxMetrics();
  private readonly table: string;
  private readonly channel: string;
  private readonly retryBackoff: BackoffOptions;
  private running?: Promise<void>;
  private stopping = false;
  private listener?: Client;
  /** A wake-up (a commit in this process, or a NOTIFY) arrived since the last claim. */
  private notified = false;
  private interruptSleep?: (byNotification: boolean) => void;
  private unregisterLocal?: () => void;
  private gaugesRefreshedAt = 0;
  /** The last look found no pending row at all (so the gauges are zero without counting). */
  private knownEmpty = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly options: OutboxRelayOptions,
  ) {
    if (dataSource.options.type !== 'postgres') throw new Error('OutboxRelay needs a PostgreSQL DataSource');
    this.table = qualifiedTableName(dataSource, OutboxMessage);
    this.channel = outboxNotifyChannel(dataSource);
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.options.enabled === false) {
      this.logger.log(`Not relaying ${this.table}: the outbox relay is off on this instance (OUTBOX_RELAY_ENABLED=false); instances with it on publish what this one writes`);
      return;
    }
    this.stopping = false;
    // Writers of this process wake it on commit; NOTIFY brings what other processes commit.
    this.unregisterLocal = registerLocalRelay(this.dataSource, () => this.wake());
    await this.listen();
    this.running = this.run();
  }

  /** Lets the batch in flight finish (published and marked, or recorded as failed), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unregisterLocal?.();
    this.unregisterLocal = undefined;
    this.interruptSleep?.(false);
    await this.running;
    this.running = undefined;
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let blockedRetries = 0;
    let polled = false;
    while (!this.stopping) {
      let delay = this.options.pollIntervalMs;
      try {
        // Most timer wake-ups find nothing: one indexed lookup then, not a three-statement transaction.
        // Not known to be empty until that lookup answers: a failing one leaves the gauges counting.
        this.knownEmpty = false;
        this.knownEmpty = polled && !this.notified && !(await this.anyPending());
        const outcome = this.knownEmpty ? { published: 0, blocked: 0 } : await this.publishBatch();
        if ('failed' in outcome) throw outcome.failed;
        failures = 0;
        blockedRetries = outcome.blocked > 0 ? blockedRetries + 1 : 0;
        // A full batch means more are probably waiting.
        if (outcome.published === this.options.batchSize || this.notified) delay = 0;
        else if (blockedRetries > 0) {
          delay = backoffCeiling(blockedRetries, { initialMs: BLOCKED_RETRY_INITIAL_MS, maxMs: this.options.pollIntervalMs });
        }
      } catch (error) {
        failures += 1;
        delay = equalJitterDelay(failures, this.retryBackoff);
        this.logger.warn(
          `Publishing outbox messages failed (${failures} in a row), retrying in ${delay} ms: ${errorText(error)}`,
        );
      }
      await this.refreshGauges();
      if (!this.listener && !this.stopping) await this.listen();
      // A wake-up that arrived since the claim (during the gauges or LISTEN) found no sleep to end:
      // claim again now rather than sleep through it until the next poll.
      const wokenMeanwhile = this.notified && failures === 0;
      const wokenEarly = delay > 0 && !this.stopping && !wokenMeanwhile ? await this.sleep(delay, failures === 0) : true;
      // After waiting for another replica's batch, rows are known to be pending: no lookup first.
      polled = !wokenEarly && failures === 0 && blockedRetries === 0;
    }
  }

  private async publishBatch(): Promise<BatchOutcome> {
    this.notified = false;
    return this.dataSource.transaction(async (manager): Promise<BatchOutcome> => {
      const claimed: ClaimedRow[] = await manager.query(this.claimSql(), [this.options.batchSize]);
      const rows = claimed.filter((row) => !row.blocked);
      const blocked = claimed.length - rows.length;
      if (!rows.length) return { published: 0, blocked };
      const ids = rows.map((row) => row.id);
      const claimedAt = performance.now();
      try {
        await this.transport.publish(rows.map(toMessage));
      } catch (error) {
        // Committed, unlike a throw: the rows stay pending with the failure on record.
        await manager.query(
          `UPDATE ${this.table} SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])`,
          [ids, errorText(error).slice(0, LAST_ERROR_MAX_LENGTH)],
        );
        countByTopic(rows, (topic, count) => this.metrics.publishFailures.inc({ topic }, count));
        return { failed: error };
      }
      const publishSeconds = (performance.now() - claimedAt) / 1000;
      await manager.query(
        `UPDATE ${this.table} SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      countByTopic(rows, (topic, count) => this.metrics.published.inc({ topic }, count));
      for (const row of rows) this.metrics.publishDelay.observe({ topic: row.topic }, row.age_seconds + publishSeconds);
      return { published: rows.length, blocked };
    });
  }

  /** Whether any row is pending, here or held by another replica (the partial pending index answers it). */
  private async anyPending(): Promise<boolean> {
    const [{ pending }]: { pending: boolean }[] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM ${this.table} WHERE published_at IS NULL) AS pending`,
    );
    return pending;
  }

  /**
   * Oldest pending rows nobody else holds, each marked blocked when an earlier pending row of the same
   * key is outside this batch: skipped by the lock, it is in another replica's batch being published.
   */
  private claimSql(): string {
    return `
      WITH claimed AS (
        SELECT id, message_key, sequence_number FROM ${this.table}
        WHERE published_at IS NULL
        ORDER BY sequence_number
        LIMIT $1
        FOR UPDATE SKIP LOCKED
      )
      SELECT o.id, o.topic, o.message_key, o.envelope, o.headers,
             EXTRACT(EPOCH FROM clock_timestamp() - o.created_at)::float8 AS age_seconds,
             EXISTS (
               SELECT 1 FROM ${this.table} earlier
               WHERE earlier.published_at IS NULL
                 AND earlier.message_key = c.message_key
                 AND earlier.sequence_number < c.sequence_number
                 AND earlier.id NOT IN (SELECT id FROM claimed)
             ) AS blocked
      FROM claimed c JOIN ${this.table} o ON o.id = c.id
      ORDER BY c.sequence_number`;
  }

  private async refreshGauges(): Promise<void> {
    if (Date.now() - this.gaugesRefreshedAt < GAUGE_REFRESH_MS) return;
    this.gaugesRefreshedAt = Date.now();
    if (this.knownEmpty) {
      this.metrics.pending.set(0);
      this.metrics.oldestPendingAge.set(0);
      return;
    }
    try {
      const [{ pending, oldest_age_seconds }] = await this.dataSource.query(
        `SELECT count(*)::int AS pending,
                COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float AS oldest_age_seconds
         FROM ${this.table} WHERE published_at IS NULL`,
      );
      this.metrics.pending.set(pending);
      this.metrics.oldestPendingAge.set(oldest_age_seconds);
    } catch (error) {
      this.logger.debug(`Cannot refresh outbox gauges: ${errorText(error)}`);
    }
  }

  /** Rows were committed: claim again as soon as the batch in flight is done. */
  private wake(): void {
    this.notified = true;
    this.interruptSleep?.(true);
  }

  /** Waits for the delay, a stop, or (unless backing off from failures) a wake-up; true when a wake-up ended it. */
  private sleep(ms: number, wakeOnNotify: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      const done = (byNotification: boolean) => {
        if (byNotification && !wakeOnNotify) return;
        clearTimeout(timer);
        this.interruptSleep = undefined;
        resolve(byNotification);
      };
      this.interruptSleep = done;
    });
  }

  /** A dedicated connection (not from the pool): LISTEN lasts as long as the session. */
  private async listen(): Promise<void> {
    const client = new Client(listenerConfig(this.dataSource.options as PostgresConnectionOptions));
    client.on('notification', () => this.wake());
    client.on('error', (error) => this.logger.warn(`Outbox LISTEN connection failed, polling meanwhile: ${error.message}`));
    client.on('end', () => {
      if (this.listener === client) this.listener = undefined;
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.channel)}`);
      this.listener = client;
    } catch (error) {
      this.logger.warn(`Cannot LISTEN for outbox rows, polling every ${this.options.pollIntervalMs} ms: ${errorText(error)}`);
      await client.end().catch(() => undefined);
    }
  }
}

function listenerConfig(options: PostgresConnectionOptions): ClientConfig {
  return {
    ...options.extra,
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: options.password,
    database: options.database,
    ssl: options.ssl,
    application_name: 'outbox-relay',
    connectionTimeoutMillis: 5_000,
  };
}

function toMessage(row: ClaimedRow): OutgoingMessage {
  return { topic: row.topic, key: row.message_key, value: JSON.stringify(row.envelope), headers: row.headers };
}

function countByTopic(rows: ClaimedRow[], record: (topic: string, count: number) => void): void {
  const counts = new Map<string, number>();
  for (const { topic } of rows) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  counts.forEach((count, topic) => record(topic, count));
}
