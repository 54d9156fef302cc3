import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import {
  RequestContext,
  RequestContextData,
  acceptRequestId,
  activeTraceparent,
  childTraceparent,
  inConsumerSpan,
} from '@multipult/observability';
import { DataSource, EntityManager } from 'typeorm';
import { BackoffOptions, fullJitterDelay } from '../backoff';
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
} from '../transport/event-transport';
import { InboxRecord } from './inbox-record.entity';

/** Headers a dead-lettered message carries besides its original ones. */
export const DeadLetterHeaders = {
  error: 'x-error',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  attempts: 'x-attempts',
} as const;

export interface ConsumeOptions<C extends EventContract<unknown>> {
  groupId: string;
  /** The events this group handles; it subscribes to their topics and skips other types found there. */
  contracts: readonly C[];
  fromBeginning?: boolean;
  /** Runs in the transaction that records the event as processed: write with `manager` only. */
  handler(envelope: EnvelopeOf<C>, manager: EntityManager, transaction: HandlerTransaction): Promise<void>;
}

export interface HandlerTransaction {
  /**
   * Runs `effect` once the handler's transaction has committed (e.g. telling live clients about
   * rows it wrote); never for a rolled-back attempt. A failing effect is logged, not retried.
   */
  afterCommit(effect: () => Promise<void> | void): void;
}

export interface EventConsumerOptions {
  /** Retries after the first failed attempt before the message goes to `<topic>.dlq`. */
  maxRetries: number;
  retryBackoff?: BackoffOptions;
}

const DEFAULT_RETRY_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };
/** Under kafkajs' default session timeout (30 s) with a wide margin. */
const HEARTBEAT_EVERY_MS = 3_000;
const ERROR_HEADER_MAX_LENGTH = 1_000;

/**
 * Runs event handlers exactly once per consumer group and event id: each handler runs in a
 * transaction that first claims the id in the inbox; failures are retried with backoff, then
 * dead-lettered so one bad message cannot block its partition.
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
    const transportSubscription = await this.transport.subscribe({
      groupId: options.groupId,
      topics: [...new Set(options.contracts.map((contract) => contract.topic))],
      fromBeginning: options.fromBeginning,
      handler: (message, control) => this.process(options, message, control),
    });
    const subscription: Subscription = {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await transportSubscription.stop();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
  }

  private async process<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    message: ReceivedMessage,
    control: DeliveryControl,
  ): Promise<void> {
    const labels = { group: options.groupId, topic: message.topic };
    const parsed = parseEnvelope(message.value, options.contracts);
    const envelope = parsed.outcome === 'valid' ? parsed.envelope : undefined;
    const traceparent = message.headers[EventHeaders.traceparent] ?? envelope?.traceparent ?? undefined;
    const spanName = `consume ${envelope?.type ?? message.topic}`;
    await inConsumerSpan(spanName, traceparent, () => this.processInContext(options, message, parsed, labels, control));
  }

  private async processInContext<C extends EventContract<unknown>>(
    options: ConsumeOptions<C>,
    message: ReceivedMessage,
    parsed: EnvelopeParseResult<C>,
    labels: { group: string; topic: string },
    control: DeliveryControl,
  ): Promise<void> {
    const envelope = parsed.outcome === 'valid' ? parsed.envelope : undefined;
    await RequestContext.run(requestContextOf(message, envelope), async () => {
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
      const event = `${parsed.envelope.type} ${parsed.envelope.id}`;
      for (let attempt = 1; ; attempt++) {
        try {
          const handled = await this.handleOnce(options, parsed.envelope);
          this.metrics.processed.inc({ ...labels, result: handled ? 'handled' : 'duplicate' });
          return;
        } catch (error) {
          this.metrics.failures.inc(labels);
          if (attempt > this.options.maxRetries) {
            this.logger.error(`Giving up on ${event} after ${attempt} attempts: ${errorText(error)}`);
            await this.deadLetter(message, errorText(error), attempt, labels);
            return;
          }
          const delay = fullJitterDelay(attempt, this.retryBackoff);
          this.logger.warn(`Handling ${event} failed (attempt ${attempt}), retrying in ${delay} ms: ${errorText(error)}`);
          await pause(delay, control);
        }
      }
    });
  }

  /** False when the group had already processed this event id (a redelivery). */
  private async handleOnce<C extends EventContract<unknown>>(options: ConsumeOptions<C>, envelope: EnvelopeOf<C>): Promise<boolean> {
    const effects: (() => Promise<void> | void)[] = [];
    const handled = await this.dataSource.transaction(async (manager) => {
      const claimed: unknown[] = await manager.query(
        `INSERT INTO ${this.inboxTable} (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
        [options.groupId, (envelope as EventEnvelope).id],
      );
      if (!claimed.length) return false;
      await options.handler(envelope, manager, { afterCommit: (effect) => effects.push(effect) });
      return true;
    });
    for (const effect of effects) {
      try {
        await effect();
      } catch (error) {
        this.logger.warn(`After-commit effect of ${(envelope as EventEnvelope).type} failed: ${errorText(error)}`);
      }
    }
    return handled;
  }

  private async deadLetter(
    message: ReceivedMessage,
    error: string,
    attempts: number,
    labels: { group: string; topic: string },
  ): Promise<void> {
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
