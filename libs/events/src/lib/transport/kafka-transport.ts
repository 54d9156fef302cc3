import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Admin,
  ConsumerRunConfig,
  IHeaders,
  Kafka,
  KafkaMessage,
  LogEntry,
  Message,
  Partitioners,
  Producer,
  SASLOptions,
  logLevel,
} from 'kafkajs';
import { BackoffOptions, equalJitterDelay } from '../backoff';
import { errorText } from '../error-text';
import { consumerMetrics } from '../metrics';
import {
  EventTransport,
  OutgoingMessage,
  ReceivedMessage,
  SubscribeOptions,
  Subscription,
  deadLetterTopic,
} from './event-transport';

export interface KafkaTransportOptions {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: SASLOptions;
  /** Partitions one consumer works on at once (each partition stays in order); useful with topics of several partitions. */
  partitionsConsumedConcurrently?: number;
  /**
   * Namespace on the broker: prepended to every topic (dead-letter topics included) and consumer group,
   * and taken off again on what is received, so callers only ever see the logical names. Lets several
   * deployments (test platforms, preview environments) share one cluster without seeing each other.
   */
  topicPrefix?: string;
}

// Short and explicit (kafkajs' defaults change with NODE_ENV, and nest: a producer retry reconnects with
// the client's retries). Enough to ride out a leader election; a longer outage fails the publish back to
// the outbox relay, which keeps the rows and retries with its own backoff for as long as it lasts.
// Duplicates that bounded retries can cause die in the consumers' inbox.
const RETRY = { initialRetryTime: 200, maxRetryTime: 2_000, retries: 3 };
// kafkajs warns about exactly that bound on every producer it creates.
const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer';
// Restarts after crashes kafkajs does not restart from (it restarts after retriable errors itself).
const CRASH_RESTART_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000 };
// Group states without members.
const MEMBERLESS_GROUP_STATES = new Set(['Empty', 'Dead']);
// How long a topic just created (by this or another service) may take to get its partition leaders.
const TOPIC_READY_TIMEOUT_MS = 15_000;
const TOPIC_READY_POLL_MS = 200;
/** How long stopping a consumer waits for a join under way (members rejoin within a heartbeat, 3 s, normally). */
const JOIN_WAIT_ON_STOP_MS = 10_000;

export class KafkaTransport implements EventTransport {
  private readonly logger = new Logger(KafkaTransport.name);
  private readonly kafka: Kafka;
  private producer: Producer;
  private readonly admin: Admin;
  private producerConnected?: Promise<void>;
  private adminConnected?: Promise<void>;
  private readonly existingTopics = new Set<string>();
  private readonly subscriptions = new Set<Subscription>();

  private readonly partitionsConsumedConcurrently: number;
  private readonly topicPrefix: string;

  constructor({ brokers, clientId, ssl, sasl, partitionsConsumedConcurrently = 1, topicPrefix = '' }: KafkaTransportOptions) {
    this.partitionsConsumedConcurrently = partitionsConsumedConcurrently;
    this.topicPrefix = topicPrefix;
    this.kafka = new Kafka({
      clientId,
      brokers,
      ssl,
      sasl,
      connectionTimeout: 3_000,
      retry: RETRY,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.log(entry),
    });
    this.producer = this.createProducer();
    this.admin = this.kafka.admin();
  }

  async connect(): Promise<void> {
    await Promise.all([this.connectProducer(), this.connectAdmin()]);
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
    this.producerConnected = undefined;
    this.adminConnected = undefined;
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      // One request in flight: a retried request can never overtake a later one, so per-key order holds.
      maxInFlightRequests: 1,
      // Murmur2 like the Java client: a key lands on the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: RETRY,
    });
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (!messages.length) return;
    const byTopic = new Map<string, Message[]>();
    for (const { topic: logicalTopic, key, value, headers } of messages) {
      const topic = this.brokerName(logicalTopic);
      const topicMessages = byTopic.get(topic) ?? [];
      topicMessages.push({ key, value, headers });
      byTopic.set(topic, topicMessages);
    }
    const topics = [...byTopic.keys()];
    try {
      await this.ensureTopics(topics);
      const batch = { acks: -1, topicMessages: [...byTopic].map(([topic, topicMessages]) => ({ topic, messages: topicMessages })) };
      await this.connectProducer();
      try {
        await this.producer.sendBatch(batch);
      } catch (error) {
        if (!producerStateLost(error)) throw error;
        // A batch the broker appended but whose answer was lost (a broker killed mid-request) leaves
        // kafkajs a sequence number behind the broker, and every later send is refused: only a new
        // producer id starts over. What the lost answer left unsure is sent again; inboxes drop copies.
        this.logger.warn(`The producer's sequence numbers no longer match the broker's (${errorText(error)}): starting a new producer`);
        await this.replaceProducer();
        await this.producer.sendBatch(batch);
      }
    } catch (error) {
      // The topic may be what went missing (deleted, or a broker that lost its data): check again next time.
      topics.forEach((topic) => this.existingTopics.delete(topic));
      throw error;
    }
  }

  async subscribe({ groupId, topics: logicalTopics, fromBeginning = false, handler, batchHandler, maxBatchSize = 1 }: SubscribeOptions): Promise<Subscription> {
    const topics = logicalTopics.map((topic) => this.brokerName(topic));
    await this.ensureTopics(logicalTopics.flatMap((topic) => [topic, deadLetterTopic(topic)]).map((topic) => this.brokerName(topic)));
    const brokerGroupId = this.brokerName(groupId);
    const startingOffsets = fromBeginning ? undefined : await this.endOffsetsForNewGroup(brokerGroupId, topics);
    const consumer = this.kafka.consumer({ groupId: brokerGroupId, allowAutoTopicCreation: false });
    const stopping = new AbortController();
    const { lag, restarts } = consumerMetrics();
    try {
      await consumer.connect();
      // A partition without a committed offset is read from its start: kafkajs would otherwise take
      // its end whenever the consumer (re)joins, skipping what was published while it was away.
      await consumer.subscribe({ topics, fromBeginning: true });
    } catch (error) {
      await consumer.disconnect();
      throw error;
    }
    if (startingOffsets) {
      // A new group starts where its topics ended when it subscribed, however late it joins: the
      // seek is applied (and committed) before the first fetch.
      const stopListening = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        stopListening();
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const offset = startingOffsets.get(topic)?.get(partition);
            if (offset !== undefined) consumer.seek({ topic, partition, offset });
          }
        }
      });
    }
    const runConfig: ConsumerRunConfig = {
      partitionsConsumedConcurrently: this.partitionsConsumedConcurrently,
      // Offsets are resolved only once the handler is done with the message (or the batch handler with the chunk).
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const topic = this.logicalName(batch.topic);
        const control = { signal: stopping.signal, heartbeat };
        const labels = { group: groupId, topic, partition: String(batch.partition) };
        const messages = batch.messages.map((message) => received(topic, batch.partition, message));
        const chunkSize = batchHandler ? Math.max(1, maxBatchSize) : 1;
        for (let start = 0; start < messages.length; start += chunkSize) {
          if (!isRunning() || isStale() || stopping.signal.aborted) return;
          const chunk = messages.slice(start, start + chunkSize);
          try {
            if (batchHandler && chunk.length > 1) await batchHandler(chunk, control);
            else await handler(chunk[0], control);
          } catch (error) {
            // Stopping mid-retry: leave the offsets unresolved so the next owner of the partition gets them.
            if (stopping.signal.aborted) return;
            throw error;
          }
          const last = chunk[chunk.length - 1];
          resolveOffset(last.offset);
          lag.set(labels, Number(batch.highWatermark) - Number(last.offset) - 1);
          await heartbeat();
        }
      },
    };
    // kafkajs retries a failing batch and restarts the consumer after retriable errors, but after one
    // it deems unrecoverable (a TypeError, RangeError, ReferenceError or SyntaxError, or a non-retriable
    // protocol error) it stays stopped for good with its partitions unconsumed: it is started again here.
    let crashesInARow = 0;
    let joinedOrCrashed!: () => void;
    const settled = new Promise<void>((resolve) => (joinedOrCrashed = resolve));
    consumer.on(consumer.events.GROUP_JOIN, () => {
      crashesInARow = 0;
      joinedOrCrashed();
    });
    consumer.on(consumer.events.CRASH, () => joinedOrCrashed());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || stopping.signal.aborted) return;
      const delay = equalJitterDelay(++crashesInARow, CRASH_RESTART_BACKOFF);
      this.logger.error(`The consumer of ${groupId} stopped on ${errorText(payload.error)}; starting it again in ${delay} ms`);
      restarts.inc({ group: groupId });
      void sleep(delay, undefined, { signal: stopping.signal })
        .then(() => consumer.run(runConfig))
        .catch((error: unknown) => stopping.signal.aborted || this.logger.error(`The consumer of ${groupId} did not start again: ${errorText(error)}`));
    });
    // Not awaited: consumer.run() resolves once the group is joined, and a replacement for a killed
    // instance waits out the dead member's session (30 s) first. Where the group starts is defined
    // already (its commits, or the offsets above), so the join must not hold the start-up.
    void consumer.run(runConfig).catch((error: unknown) => this.logger.error(`The consumer of ${groupId} did not start: ${errorText(error)}`));
    const subscription: Subscription = {
      stop: async () => {
        stopping.abort();
        // kafkajs leaves the group only once joined: a member that vanishes mid-join holds every other
        // member's rejoin until the broker gives up on it (the rebalance timeout, a minute), and the
        // group consumes nothing meanwhile. A join already under way is let finish first (bounded), and
        // one macrotask more: kafkajs marks the consumer running only after the join's event, and
        // disconnecting before that left it fetching on a closed connection and restarting itself.
        await Promise.race([settled, sleep(JOIN_WAIT_ON_STOP_MS, undefined, { ref: false })]);
        await new Promise((resolve) => setImmediate(resolve));
        await consumer.disconnect();
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * For a group the broker does not know yet (no members, no committed offset on any of its
   * topics), where each partition of its topics ends now; undefined for a group that exists.
   */
  private async endOffsetsForNewGroup(brokerGroupId: string, topics: string[]): Promise<Map<string, Map<number, string>> | undefined> {
    await this.connectAdmin();
    const [group] = (await this.admin.describeGroups([brokerGroupId])).groups;
    if (group && !MEMBERLESS_GROUP_STATES.has(group.state)) return undefined;
    const committed = await this.admin.fetchOffsets({ groupId: brokerGroupId, topics });
    if (committed.some(({ partitions }) => partitions.some((partition) => Number(partition.offset) >= 0))) return undefined;
    const ends = new Map<string, Map<number, string>>();
    for (const topic of topics) ends.set(topic, await this.endOffsets(topic));
    return ends;
  }

  private async endOffsets(topic: string): Promise<Map<number, string>> {
    const read = async (admin: Admin) => new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, high]));
    try {
      return await read(this.admin);
    } catch {
      // kafkajs fails on a topic its cached metadata does not list yet (created since it was read),
      // and keeps that cache for minutes: a new admin client reads the metadata afresh.
    }
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
        return await read(admin);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      } finally {
        await admin.disconnect();
      }
      await sleep(TOPIC_READY_POLL_MS);
    }
  }

  /** The name on the broker of a topic or group. */
  private brokerName(logicalName: string): string {
    return `${this.topicPrefix}${logicalName}`;
  }

  /** The name callers know a broker topic by (only topics of this namespace are ever subscribed). */
  private logicalName(brokerName: string): string {
    return brokerName.startsWith(this.topicPrefix) ? brokerName.slice(this.topicPrefix.length) : brokerName;
  }

  private connectProducer(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((error) => {
      this.producerConnected = undefined;
      throw error;
    });
    return this.producerConnected;
  }

  private async replaceProducer(): Promise<void> {
    const previous = this.producer;
    this.producer = this.createProducer();
    this.producerConnected = undefined;
    await previous.disconnect().catch(() => undefined);
    await this.connectProducer();
  }

  private connectAdmin(): Promise<void> {
    this.adminConnected ??= this.admin.connect().catch((error) => {
      this.adminConnected = undefined;
      throw error;
    });
    return this.adminConnected;
  }

  /**
   * Creates topics on first use (brokers in production usually refuse auto-creation), and waits
   * until every partition has a leader: a topic another service has just created is listed before
   * it can be consumed, and services of one deployment start together.
   */
  private async ensureTopics(topics: string[]): Promise<void> {
    const pending = topics.filter((topic) => !this.existingTopics.has(topic));
    if (!pending.length) return;
    await this.connectAdmin();
    // Listing first: kafkajs logs an error for every CreateTopics naming an existing topic.
    const listed = new Set(await this.admin.listTopics());
    const missing = pending.filter((topic) => !listed.has(topic));
    let creationError: unknown;
    if (missing.length) {
      // Another service may be creating the same topics right now, and kafkajs then fails this call
      // on metadata the broker has not caught up with: whether the topics exist is what counts.
      await this.admin.createTopics({ topics: missing.map((topic) => ({ topic })) }).catch((error: unknown) => {
        creationError = error;
      });
    }
    await this.waitForLeaders(pending, creationError);
    pending.forEach((topic) => this.existingTopics.add(topic));
  }

  private async waitForLeaders(topics: string[], creationError: unknown): Promise<void> {
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    let lastError = creationError;
    for (;;) {
      try {
        const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics });
        if (metadata.every((topic) => topic.partitions.length && topic.partitions.every((partition) => partition.leader >= 0))) return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`topics still without a leader after ${TOPIC_READY_TIMEOUT_MS} ms: ${topics.join(', ')}${lastError ? ` (${errorText(lastError)})` : ''}`);
      }
      await sleep(TOPIC_READY_POLL_MS);
    }
  }

  private log({ namespace, level, log }: LogEntry): void {
    const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...details } = log;
    if (message.startsWith(BOUNDED_RETRIES_WARNING)) return;
    const text = `[${namespace}] ${message}${Object.keys(details).length ? ` ${JSON.stringify(details)}` : ''}`;
    if (level === logLevel.WARN) this.logger.warn(text);
    else this.logger.error(text);
  }
}

// Broker answers after which an idempotent producer's sequence numbers cannot recover.
const LOST_PRODUCER_STATE = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** Whether the error (or one kafkajs wrapped it around) is such an answer. */
function producerStateLost(error: unknown): boolean {
  for (let cause = error as { type?: string; cause?: unknown } | undefined; cause; cause = cause.cause as typeof cause) {
    if (cause.type && LOST_PRODUCER_STATE.has(cause.type)) return true;
  }
  return false;
}

function received(topic: string, partition: number, message: KafkaMessage): ReceivedMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? '',
    headers: kafkaHeaderValues(message.headers),
  };
}

/** A Kafka message's headers as strings (the first value of a repeated header). */
export function kafkaHeaderValues(headers: IHeaders | undefined): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) values[name] = first.toString();
  }
  return values;
}
