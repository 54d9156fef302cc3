import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import {
  RequestContext,
  RequestContextData,
  acceptRequestId,
  activeTraceparent,
  childTraceparent,
  inConsumerBatchSpan,
  inConsumerSpan,
} from '@multipult/observability';
import { DataSource, EntityManager } from 'typeorm';
import { BackoffOptions, equalJitterDelay, fullJitterDelay } from '../backoff';
import { EnvelopeParseResult, EventHeaders, parseEnvelope } from '../envelope';
import { errorText } from '../error-text';
import { EnvelopeOf, EventContract, EventEnvelope } from '../event-contract';
import { consumerMetrics } from '../metrics';
import { qualifiedTableName } from '../table-path';
import {
  DeliveryControl,
  EventTransport,
  ReceivedMessage,
  Subscription,
  deadLetterTopic,
  retryTopic,
} from '../transport/event-transport';
import { HandlingAttempt } from './handling-attempt';
import { InboxRecord } from './inbox-record.entity';

/** Headers a dead-lettered message carries besides its original ones. */
export const DeadLetterHeaders = {
  error: 'x-error',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempts: 'x-attempts',
} as const;

/** Headers of a message parked on `<topic>.retry` (besides its original ones and the x-original-* of DeadLetterHeaders). */
export const RetryHeaders = {
  /** How many times the event has overrun its handling deadline. */
  deadlinesExceeded: 'x-deadlines-exceeded',
  /** Epoch milliseconds before which the retry consumer does not try it again (the backoff). */
  notBefore: 'x-not-before',
  /** The consumer group that parked it: `<topic>.retry` is shared by every group of the topic, and only that one retries it. */
  group: 'x-consumer-group',
} as const;

export interface ConsumeOptions<C extends EventContract<unknown>> {
  groupId: string;
  /** The events this group handles; it subscribes to their topics and skips other types found there. */
  contracts: readonly C[];
  fromBeginning?: boolean;
  /**
   * Runs in the transaction that records the event as processed: write with `manager` only.
   * With `batchSize` > 1 that transaction may hold other events of the batch too (handled one
   * after another, in partition order): do not commit or roll back yourself. Statements sent
   * through `manager` once the handler has settled (or overrun its deadline) are refused with
   * HandlingAttemptEndedError (HandlingDeadlineExceededError): await everything you send.
   */
  handler(envelope: EnvelopeOf<C>, manager: EntityManager, transaction: HandlerTransaction): Promise<void>;
  /**
   * Up to this many consecutive events of one partition are handled in one transaction (each
   * still claimed in the inbox on its own, so a redelivered one is skipped). If any of them fails,
   * the whole batch rolls back and its events are handled one transaction each, with the usual
   * retries and dead-lettering for the failing one. Default 1: a transaction per event.
   */
  batchSize?: number;
  /**
   * Handles the events of a batch together instead of one `handler` call each, so a handler can
   * work set-based (one read for everyone the events concern, one insert for all their rows): the
   * events the transaction claimed, in partition order, duplicates left out, under one handling
   * deadline, in one span linked to each producer's. `handler` still handles an event alone (a
   * lone message, the one-by-one fallback, the retry topic), so the two must have the same effect.
   */
  batchHandler?(envelopes: EnvelopeOf<C>[], manager: EntityManager, transaction: HandlerTransaction): Promise<void>;
  /** Overrides the consumer's `handlingDeadlineMs` for this group (0: none). */
  handlingDeadlineMs?: number;
}

export interface HandlerTransaction {
  /**
   * Runs `effect` once the handler's transaction has committed (e.g. telling live clients about
   * rows it wrote); never for a rolled-back attempt. A failing effect is logged, not retried.
   */
  afterCommit(effect: () => Promise<void> | void): void;
  /** Aborted when the handling deadline has passed: the attempt is being rolled back, stop early. */
  signal: AbortSignal;
}

export interface EventConsumerOptions {
  /** Retries after the first failed attempt before the message goes to `<topic>.dlq`. */
  maxRetries: number;
  retryBackoff?: BackoffOptions;
  /**
   * How long one event's handler may run before its attempt is rolled back and the event is parked
   * on `<topic>.retry` (retried there after a backoff) so the partition moves on; 0 for no deadline.
   * SQL statements of the handling transaction are cut off at the same bound (statement_timeout).
   */
  handlingDeadlineMs?: number;
  /**
   * false: consume() joins no group (the instances that do, handle everything), e.g. a replica that
   * holds thousands of sockets and leaves event handling to replicas of its own. Default true.
   */
  enabled?: boolean;
}

/** The handler overran the handling deadline (thrown into its transaction, which then rolls back). */
export class HandlingDeadlineExceededError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`handling took longer than the ${deadlineMs} ms deadline`);
    this.name = 'HandlingDeadlineExceededError';
  }
}

const DEFAULT_RETRY_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };
/** Under kafkajs' 30 s session timeout: a handler running past it would cost the consumer its group membership anyway. */
const DEFAULT_HANDLING_DEADLINE_MS = 20_000;
/** Under kafkajs' default session timeout (30 s) with a wide margin. */
const HEARTBEAT_EVERY_MS = 3_000;
/** A database that does not answer `SELECT 1` within this counts as unreachable. */
const DATABASE_PROBE_TIMEOUT_MS = 5_000;
/** Probing a database that is down: soon after a short restart, at most every 5 s through a long failover. */
const DATABASE_PROBE_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5_000 };
const ERROR_HEADER_MAX_LENGTH = 1_000;

type Labels = { group: string; topic: string };

interface ParsedMessage<C> {
  message: ReceivedMessage;
  parsed: EnvelopeParseResult<C>;
}

/** How a message is being processed: from its topic (a deadline overrun parks it) or from the retry topic. */
interface ProcessingMode {
  fromRetryTopic: boolean;
  /** Events that already overran the deadline in a failed batch: parked without running again. */
  overran?: ReadonlySet<string>;
}

/**
 * Runs event handlers exactly once per consumer group and event id: each handler runs in a
 * transaction that first claims the id in the inbox; failures are retried with backoff, then
 * dead-lettered so one bad message cannot block its partition, and an event overrunning the
 * handling deadline is parked on the retry topic so a slow one cannot either.
 */
export class EventConsumer {
  private readonly logger = new Logger(EventConsumer.name);
  private readonly metrics = consumerMetrics();
  private readonly subscriptions = new Set<Subscription>();
  private readonly retryBackoff: BackoffOptions;
  private readonly inboxTable: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transport: EventTransport,
    private readonly options: EventConsumerOptions,
  ) {
    this.retryBackoff = options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    this.inboxTable = qualifiedTableName(dataSource, InboxRecord);
  }

  async consume<C extends EventContract<unknown>>(options: ConsumeOptions<C>): Promise<Subscription> {
    if (this.options.enabled === false) {
      this.logger.log(`Not joining consumer group ${options.groupId}: event consumers are off on this instance (EVENT_CONSUMERS_ENABLED=false)`);
      return { stop: async () => undefined };
    }
    const topics = [...new Set(options.contracts.map((contract) => contract.topic))];
    const deadlineMs = this.deadlineOf(options);
    const fromTopic: ProcessingMode = { fromRetryTopic: false };
    const subscribing = [
      this.transport.subscribe({
        groupId: options.groupId,
        topics,
        fromBeginning: options.fromBeginning,
        handler: (message, control) => this.process(options, message, control, fromTopic),
        batchHandler: (messages, control) => this.processBatch(options, messages, control),
        maxBatchSize: options.batchSize ?? 1,
      }),
    ];
    if (deadlineMs) {
      // Its own group: waiting out a parked event's backoff must not hold the main topics.
      subscribing.push(
        this.transport.subscribe({
          groupId: `${options.groupId}.retry`,
          topics: topics.map(retryTopic),
          fromBeginning: options.fromBeginning,
          handler: (message, control) => this.processParked(options, message, control),
        }),
      );
    }
    const settled = await Promise.allSettled(subscribing);
    const transportSubscriptions = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      await Promise.all(transportSubscriptions.map((subscription) => subscription.stop()));
      throw failure.reason;
    }
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await Promise.all(transportSubscriptions.map((transportSubscription) => transportSubscription.stop()));
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }

  private observeDelay(labels: Labels, envelope: EventEnvelope): void {
    const occurredAt = Date.parse(envelope.occurredAt);
    if (Number.isFinite(occurredAt)) this.metrics.delay.observe(labels, Math.max(0, Date.now() - occurredAt) / 1000);
  }

  private deadlineOf(options: ConsumeOptions<EventContract<unknown>>): number {
    return options.handlingDeadlineMs ?? this.options.handlingDeadlineMs ?? DEFAULT_HANDLING_DEADLINE_MS;
  }

  /**
   * One transaction for the batch's valid events; if it fails, each message on its own (in order),
   * so none is lost and none applied twice (the failed transaction rolled back every inbox claim).
   */
  private async processBatch<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    messages: ReceivedMessage[],
    control: DeliveryControl,
  ): Promise<void> {
    const items: ParsedMessage<C>[] = messages.map((message) => ({ message, parsed: parseEnvelope(message.value, options.contracts) }));
    const valid = items.filter((item) => item.parsed.outcome === 'valid');
    const overran = new Set<string>();
    let batchFailure: unknown;
    if (valid.length > 1) {
      try {
        await this.handleBatchOnce(options, valid, overran, control);
      } catch (error) {
        batchFailure = error;
      }
    }
    if (valid.length > 1 && batchFailure === undefined) {
      // Only what the transaction did not cover: skipped types and malformed messages.
      for (const item of items) {
        if (item.parsed.outcome !== 'valid') await this.process(options, item.message, control, { fromRetryTopic: false });
      }
      return;
    }
    if (batchFailure !== undefined) {
      this.metrics.batchFallbacks.inc({ group: options.groupId, topic: messages[0].topic });
      this.logger.warn(`Handling ${valid.length} events in one transaction failed, handling them one by one: ${errorText(batchFailure)}`);
    }
    for (const { message } of items) await this.process(options, message, control, { fromRetryTopic: false, overran });
  }

  private async handleBatchOnce<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    items: ParsedMessage<C>[],
    overran: Set<string>,
    control: DeliveryControl,
  ): Promise<void> {
    const deadlineMs = this.deadlineOf(options);
    const effects: { type: string; effect: () => Promise<void> | void }[] = [];
    const outcomes = await this.dataSource.transaction(async (manager) => {
      const ids = items.map(({ parsed }) => envelopeOf(parsed).id);
      const claimed = await this.claim(manager, options.groupId, ids, deadlineMs);
      const results: ('handled' | 'duplicate')[] = [];
      if (options.batchHandler) {
        // Deleting makes a second copy of the same event within the batch a duplicate too.
        const fresh = items.filter(({ parsed }) => claimed.delete(envelopeOf(parsed).id.toLowerCase()));
        for (const item of items) results.push(fresh.includes(item) ? 'handled' : 'duplicate');
        if (!fresh.length) return results;
        const envelopes = fresh.map(({ parsed }) => envelopeOf(parsed));
        await this.inBatchContext(fresh, () =>
          withinDeadline(manager, deadlineMs, (attemptManager, signal) =>
            (options.batchHandler as NonNullable<ConsumeOptions<C>['batchHandler']>)(envelopes as EnvelopeOf<C>[], attemptManager, {
              afterCommit: (effect) => effects.push({ type: envelopes[0].type, effect }),
              signal,
            }),
          ),
        );
        await control.heartbeat().catch(() => undefined);
        return results;
      }
      for (const { message, parsed } of items) {
        const envelope = envelopeOf(parsed);
        // Deleting makes a second copy of the same event within the batch a duplicate too.
        if (!claimed.delete(envelope.id.toLowerCase())) {
          results.push('duplicate');
          continue;
        }
        try {
          await this.inEventContext(message, envelope, () =>
            withinDeadline(manager, deadlineMs, (attemptManager, signal) =>
              options.handler(envelope as EnvelopeOf<C>, attemptManager, {
                afterCommit: (effect) => effects.push({ type: envelope.type, effect }),
                signal,
              }),
            ),
          );
        } catch (error) {
          if (error instanceof HandlingDeadlineExceededError) overran.add(envelope.id);
          throw error;
        }
        results.push('handled');
        // A long batch must not cost the consumer its group membership (sent only when one is due).
        // A failed heartbeat (a rebalance) must not roll the batch back: the transport notices after it.
        await control.heartbeat().catch(() => undefined);
      }
      return results;
    });
    outcomes.forEach((result, index) => {
      const labels = { group: options.groupId, topic: items[index].message.topic };
      this.metrics.processed.inc({ ...labels, result });
      if (result === 'handled') this.observeDelay(labels, envelopeOf(items[index].parsed));
    });
    for (const { type, effect } of effects) await this.runEffect(type, effect);
  }

  private async process<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    message: ReceivedMessage,
    control: DeliveryControl,
    mode: ProcessingMode,
  ): Promise<void> {
    const labels = { group: options.groupId, topic: message.topic };
    const parsed = parseEnvelope(message.value, options.contracts);
    const envelope = parsed.outcome === 'valid' ? parsed.envelope : undefined;
    const traceparent = message.headers[EventHeaders.traceparent] ?? envelope?.traceparent ?? undefined;
    const spanName = `consume ${envelope?.type ?? message.topic}`;
    await inConsumerSpan(spanName, traceparent, () =>
      RequestContext.run(requestContextOf(message, envelope), () => this.processInContext(options, message, parsed, labels, control, mode)),
    );
  }

  private async processInContext<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    message: ReceivedMessage,
    parsed: EnvelopeParseResult<C>,
    labels: Labels,
    control: DeliveryControl,
    mode: ProcessingMode,
  ): Promise<void> {
    if (parsed.outcome === 'not_subscribed') {
      this.metrics.processed.inc({ ...labels, result: 'not_subscribed' });
      return;
    }
    if (parsed.outcome === 'invalid') {
      // Retrying cannot make a malformed message valid.
      this.logger.warn(`Rejected ${message.topic}/${message.partition}@${message.offset}: ${parsed.reason}`);
      await this.deadLetter(message, parsed.reason, 1, labels);
      return;
    }
    const envelope = parsed.envelope as EventEnvelope;
    const event = `${envelope.type} ${envelope.id}`;
    if (!mode.fromRetryTopic && mode.overran?.has(envelope.id)) {
      await this.park(message, new HandlingDeadlineExceededError(this.deadlineOf(options)), labels);
      return;
    }
    // An attempt made while the database was down is made again under the same number.
    for (let attempt = 1; ; ) {
      try {
        const handled = await this.handleOnce(options, parsed.envelope);
        this.metrics.processed.inc({ ...labels, result: handled ? 'handled' : 'duplicate' });
        if (handled) this.observeDelay(labels, envelope);
        return;
      } catch (error) {
        this.metrics.failures.inc(labels);
        if (error instanceof HandlingDeadlineExceededError && !mode.fromRetryTopic) {
          await this.park(message, error, labels);
          return;
        }
        if (!(await this.databaseReachable())) {
          // Every event fails alike while the service's own database is down (a restart, a failover):
          // the partition waits for it, and the attempt does not count towards dead-lettering a valid event.
          this.metrics.databaseWaits.inc(labels);
          this.logger.warn(`Handling ${event} failed while the database is unreachable; waiting for it (not counted as an attempt): ${errorText(error)}`);
          await this.waitForDatabase(control);
          continue;
        }
        if (attempt > this.options.maxRetries) {
          this.logger.error(`Giving up on ${event} after ${attempt} attempts: ${errorText(error)}`);
          await this.deadLetter(message, errorText(error), attempt, labels);
          return;
        }
        const delay = fullJitterDelay(attempt, this.retryBackoff);
        this.logger.warn(`Handling ${event} failed (attempt ${attempt}), retrying in ${delay} ms: ${errorText(error)}`);
        await pause(delay, control);
        attempt += 1;
      }
    }
  }

  /** Whether the service's database answers a trivial query within DATABASE_PROBE_TIMEOUT_MS. */
  private databaseReachable(): Promise<boolean> {
    const answered = this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    return Promise.race([answered, sleep(DATABASE_PROBE_TIMEOUT_MS, false, { ref: false })]);
  }

  /** Until the database answers again: probes with backoff, heartbeating meanwhile (an abort, e.g. a rebalance, ends the wait). */
  private async waitForDatabase(control: DeliveryControl): Promise<void> {
    for (let probe = 1; !(await this.databaseReachable()); probe++) await pause(equalJitterDelay(probe, DATABASE_PROBE_BACKOFF), control);
  }

  /** A message from `<topic>.retry`: waits out its backoff, then is handled like the original (overruns now count as failures). */
  private async processParked<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    parked: ReceivedMessage,
    control: DeliveryControl,
  ): Promise<void> {
    const { headers } = parked;
    if (headers[RetryHeaders.group] !== undefined && headers[RetryHeaders.group] !== options.groupId) return;
    const original: ReceivedMessage = {
      ...parked,
      topic: headers[DeadLetterHeaders.originalTopic] ?? parked.topic,
      partition: Number(headers[DeadLetterHeaders.originalPartition] ?? parked.partition),
      offset: headers[DeadLetterHeaders.originalOffset] ?? parked.offset,
    };
    const wait = Number(headers[RetryHeaders.notBefore] ?? 0) - Date.now();
    if (wait > 0) await pause(wait, control);
    await this.process(options, original, control, { fromRetryTopic: true });
  }

  /** False when the group had already processed this event id (a redelivery). */
  private async handleOnce<C extends EventContract<unknown>>(options: ConsumeOptions<C>, envelope: EnvelopeOf<C>): Promise<boolean> {
    const { id, type } = envelope as EventEnvelope;
    const deadlineMs = this.deadlineOf(options);
    const effects: (() => Promise<void> | void)[] = [];
    const handled = await this.dataSource.transaction(async (manager) => {
      const claimed = await this.claim(manager, options.groupId, [id], deadlineMs);
      if (!claimed.size) return false;
      await withinDeadline(manager, deadlineMs, (attemptManager, signal) =>
        options.handler(envelope, attemptManager, { afterCommit: (effect) => effects.push(effect), signal }),
      );
      return true;
    });
    for (const effect of effects) await this.runEffect(type, effect);
    return handled;
  }

  /**
   * Inserts the inbox rows; returns the (lower-case) ids that were new. In the same round trip it
   * bounds every statement of the transaction by the deadline, so a slow query cannot keep the
   * connection (and the rollback) waiting past it.
   */
  private async claim(manager: EntityManager, groupId: string, ids: string[], deadlineMs: number): Promise<Set<string>> {
    const rows: { event_id: string }[] = await manager.query(
      `WITH claimed AS (
         INSERT INTO ${this.inboxTable} (consumer_group, event_id) SELECT $1, unnest($2::uuid[])
         ON CONFLICT DO NOTHING RETURNING event_id
       )
       SELECT claimed.event_id FROM claimed, (SELECT set_config('statement_timeout', $3, true)) AS bounded`,
      [groupId, ids, String(deadlineMs)],
    );
    return new Set(rows.map((row) => String(row.event_id).toLowerCase()));
  }

  private async runEffect(type: string, effect: () => Promise<void> | void): Promise<void> {
    try {
      await effect();
    } catch (error) {
      this.logger.warn(`After-commit effect of ${type} failed: ${errorText(error)}`);
    }
  }

  /** Runs `work` in the event's span and request context (as the one-by-one path does). */
  private inEventContext<T>(message: ReceivedMessage, envelope: EventEnvelope, work: () => Promise<T>): Promise<T> {
    const traceparent = message.headers[EventHeaders.traceparent] ?? envelope.traceparent ?? undefined;
    return inConsumerSpan(`consume ${envelope.type}`, traceparent, () => RequestContext.run(requestContextOf(message, envelope), work));
  }

  /** Runs `work` for several events in one span linked to each producer's, with a request context of its own. */
  private inBatchContext<T>(items: ParsedMessage<unknown>[], work: () => Promise<T>): Promise<T> {
    const traceparents = items.map(({ message, parsed }) => message.headers[EventHeaders.traceparent] ?? envelopeOf(parsed).traceparent ?? undefined);
    const types = [...new Set(items.map(({ parsed }) => envelopeOf(parsed).type))].join(', ');
    return inConsumerBatchSpan(`consume ${types} (${items.length})`, traceparents, () =>
      RequestContext.run({ requestId: acceptRequestId(undefined), traceparent: activeTraceparent() ?? childTraceparent(undefined), locales: [] }, work),
    );
  }

  /** Moves an event that overran the deadline to `<topic>.retry`; the partition moves on once that is durable. */
  private async park(message: ReceivedMessage, error: HandlingDeadlineExceededError, labels: Labels): Promise<void> {
    const deadlinesExceeded = Number(message.headers[RetryHeaders.deadlinesExceeded] ?? 0) + 1;
    const delay = equalJitterDelay(deadlinesExceeded, this.retryBackoff);
    this.logger.warn(
      `${message.topic}/${message.partition}@${message.offset}: ${error.message}; retrying it from ${retryTopic(message.topic)} in ${delay} ms, the partition moves on`,
    );
    await this.transport.publish([
      {
        topic: retryTopic(message.topic),
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [DeadLetterHeaders.originalTopic]: message.topic,
          [DeadLetterHeaders.originalPartition]: String(message.partition),
          [DeadLetterHeaders.originalOffset]: message.offset,
          [RetryHeaders.deadlinesExceeded]: String(deadlinesExceeded),
          [RetryHeaders.notBefore]: String(Date.now() + delay),
          [RetryHeaders.group]: labels.group,
        },
      },
    ]);
    this.metrics.parked.inc(labels);
  }

  private async deadLetter(message: ReceivedMessage, error: string, attempts: number, labels: Labels): Promise<void> {
    await this.transport.publish([
      {
        topic: deadLetterTopic(message.topic),
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [DeadLetterHeaders.error]: error.slice(0, ERROR_HEADER_MAX_LENGTH),
          [DeadLetterHeaders.originalTopic]: message.topic,
          [DeadLetterHeaders.originalPartition]: String(message.partition),
          [DeadLetterHeaders.originalOffset]: message.offset,
          [DeadLetterHeaders.attempts]: String(attempts),
        },
      },
    ]);
    this.metrics.deadLettered.inc(labels);
  }
}

function envelopeOf<C>(parsed: EnvelopeParseResult<C>): EventEnvelope {
  if (parsed.outcome !== 'valid') throw new Error(`not a valid envelope: ${parsed.outcome}`);
  return parsed.envelope as EventEnvelope;
}

/**
 * Runs one handling attempt in the transaction of `manager`: resolves or rejects with `work`, or
 * rejects with HandlingDeadlineExceededError once the deadline passes (aborting the signal handed to
 * `work`, which cannot be cancelled otherwise). `work` gets a manager that refuses statements once
 * the attempt has ended, so nothing it still sends can run after the COMMIT or ROLLBACK.
 */
async function withinDeadline<T>(
  manager: EntityManager,
  deadlineMs: number,
  work: (manager: EntityManager, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const attempt = new HandlingAttempt(manager);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    if (!deadlineMs) return await work(attempt.manager, controller.signal);
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const overran = new HandlingDeadlineExceededError(deadlineMs);
        attempt.end(overran);
        controller.abort();
        reject(overran);
      }, deadlineMs);
    });
    const working = work(attempt.manager, controller.signal).catch((error: unknown) => {
      // PostgreSQL cut a statement off at the same deadline (statement_timeout).
      throw isStatementTimeout(error) ? new HandlingDeadlineExceededError(deadlineMs) : error;
    });
    // What an abandoned handler does after its deadline no longer matters: its statements are refused.
    working.catch(() => undefined);
    return await Promise.race([working, overrun]);
  } finally {
    clearTimeout(timer);
    attempt.end();
  }
}

const QUERY_CANCELED = '57014';

function isStatementTimeout(error: unknown): boolean {
  const { code, driverError } = (error ?? {}) as { code?: unknown; driverError?: { code?: unknown } };
  return code === QUERY_CANCELED || driverError?.code === QUERY_CANCELED;
}

/** Continues the producer's request and trace, so handler logs and the events it causes correlate. */
function requestContextOf(message: ReceivedMessage, envelope: EventEnvelope | undefined): RequestContextData {
  const { headers } = message;
  return {
    requestId: acceptRequestId(headers[EventHeaders.requestId] ?? envelope?.requestId ?? undefined),
    traceparent:
      activeTraceparent() ?? childTraceparent(headers[EventHeaders.traceparent] ?? envelope?.traceparent ?? undefined),
    tenantId: headers[EventHeaders.tenantId] ?? envelope?.tenantId ?? undefined,
    userId: envelope?.actorId ?? undefined,
    locales: [],
  };
}

/** Waits, heartbeating so a long backoff does not cost the consumer its group membership; rejects on stop. */
async function pause(ms: number, { signal, heartbeat }: DeliveryControl): Promise<void> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    await sleep(Math.min(left, HEARTBEAT_EVERY_MS), undefined, { signal });
    await heartbeat();
  }
}
