import { randomUUID } from 'node:crypto';
import { Admin, IHeaders, Kafka, KafkaMessage, Partitioners, SASLOptions, logLevel } from 'kafkajs';
import { DeadLetterHeaders, EventHeaders, deadLetterTopic, kafkaHeaderValues } from '@multipult/events';
import type { KafkaConfig } from '../config';
import { CliError } from '../errors';

/** A message in a dead-letter topic, with why it got there. */
export interface DeadLetter {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  eventId: string | null;
  eventType: string | null;
  error: string | null;
  attempts: number | null;
  originalTopic: string;
  originalPartition: number | null;
  originalOffset: string | null;
  /** Already produced back to the original topic by `dlq replay`. */
  replayed: boolean;
}

export interface ReplayReport {
  dlqTopic: string;
  replayed: DeadLetter[];
  /** Messages still waiting in the dead-letter topic after this replay. */
  remaining: number;
}

/** The replay's own group on dead-letter topics: its committed offsets are what has been replayed. */
export const REPLAY_GROUP = 'multipult-cli.dlq-replay';

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DeadLetterHeaders));

interface PartitionRange {
  start: bigint;
  end: bigint;
}

/**
 * Dead-letter topics (`<topic>.dlq`, KAFKA_TOPIC_PREFIX applied as the services apply it). Reading
 * never commits for anyone: inspecting uses a throwaway group that commits nothing, and replaying
 * commits only its own group's offsets.
 */
export class DeadLetters {
  private readonly kafka: Kafka;
  private readonly prefix: string;

  constructor(config: KafkaConfig) {
    this.prefix = config.KAFKA_TOPIC_PREFIX;
    this.kafka = new Kafka({
      clientId: config.KAFKA_CLIENT_ID ?? 'multipult-cli',
      brokers: config.KAFKA_BROKERS,
      ssl: config.KAFKA_SSL,
      sasl: saslOptions(config),
      connectionTimeout: 3_000,
      retry: { retries: 3 },
      logLevel: logLevel.NOTHING,
    });
  }

  /** Every message of the topic's dead-letter topic, oldest first per partition. */
  async inspect(topic: string): Promise<DeadLetter[]> {
    const dlqTopic = this.dlqTopicOf(topic);
    const { ranges, committed } = await this.withAdmin(async (admin) => {
      const offsets = await this.topicOffsets(admin, dlqTopic);
      return { ranges: new Map(offsets.map((partition) => [partition.partition, { start: partition.low, end: partition.high }])), committed: await this.replayedUpTo(admin, dlqTopic) };
    });
    const letters: DeadLetter[] = [];
    // A group of its own that commits nothing: no other reader's position moves, and Kafka forgets an empty group without offsets.
    await this.read(`multipult-cli.dlq-inspect.${randomUUID()}`, dlqTopic, ranges, async (partition, message) => {
      letters.push(deadLetterOf(topic, partition, message, BigInt(message.offset) < (committed.get(partition) ?? 0n)));
      return true;
    });
    return letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  }

  /**
   * Produces dead letters back to their original topic (the failed consumer group handles them;
   * groups that already did skip them by event id in their inbox) and commits the replay group's
   * offset after each, so a second replay continues after the last one replayed.
   */
  async replay(topic: string, limit: number, onProgress: (done: number, total: number) => void): Promise<ReplayReport> {
    const dlqTopic = this.dlqTopicOf(topic);
    const ranges = await this.withAdmin(async (admin) => {
      const committed = await this.replayedUpTo(admin, dlqTopic);
      const offsets = await this.topicOffsets(admin, dlqTopic);
      return new Map(
        offsets.map(({ partition, low, high }) => {
          const from = committed.get(partition);
          return [partition, { start: from !== undefined && from > low ? from : low, end: high }];
        }),
      );
    });
    const pending = [...ranges.values()].reduce((sum, range) => sum + Number(range.end - range.start), 0);
    const total = Math.min(pending, limit);
    const replayed: DeadLetter[] = [];
    onProgress(0, total);
    if (total > 0) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        await this.read(this.prefix + REPLAY_GROUP, dlqTopic, ranges, async (partition, message, commit) => {
          const letter = deadLetterOf(topic, partition, message, true);
          await producer.send({
            topic: this.prefix + letter.originalTopic,
            acks: -1,
            messages: [{ key: message.key, value: message.value, headers: replayHeaders(message.headers, `${dlqTopic}/${partition}@${message.offset}`) }],
          });
          await commit();
          replayed.push(letter);
          onProgress(replayed.length, total);
          return replayed.length < limit;
        });
      } finally {
        await producer.disconnect();
      }
    }
    return { dlqTopic: this.prefix + dlqTopic, replayed, remaining: pending - replayed.length };
  }

  /** The logical dead-letter topic of a topic (given with or without `.dlq`). */
  private dlqTopicOf(topic: string): string {
    return topic.endsWith('.dlq') ? topic : deadLetterTopic(topic);
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      throw new CliError(`cannot reach Kafka: ${(error as Error).message}`);
    }
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }

  private async topicOffsets(admin: Admin, dlqTopic: string): Promise<{ partition: number; low: bigint; high: bigint }[]> {
    const brokerTopic = this.prefix + dlqTopic;
    if (!(await admin.listTopics()).includes(brokerTopic)) throw new CliError(`there is no dead-letter topic ${brokerTopic}`);
    return (await admin.fetchTopicOffsets(brokerTopic)).map(({ partition, low, high }) => ({ partition, low: BigInt(low), high: BigInt(high) }));
  }

  /** Per partition, the offset the replay group continues from (absent: it never replayed there). */
  private async replayedUpTo(admin: Admin, dlqTopic: string): Promise<Map<number, bigint>> {
    const [offsets] = await admin.fetchOffsets({ groupId: this.prefix + REPLAY_GROUP, topics: [this.prefix + dlqTopic] });
    return new Map((offsets?.partitions ?? []).filter(({ offset }) => Number(offset) >= 0).map(({ partition, offset }) => [partition, BigInt(offset)]));
  }

  /**
   * Hands `handle` the messages of each partition's range in order and stops at the ranges' ends (or
   * when `handle` answers false). The group commits only what `commit` is called for.
   */
  private async read(
    groupId: string,
    dlqTopic: string,
    ranges: Map<number, PartitionRange>,
    handle: (partition: number, message: KafkaMessage, commit: () => Promise<void>) => Promise<boolean>,
  ): Promise<void> {
    const open = new Set([...ranges].filter(([, range]) => range.start < range.end).map(([partition]) => partition));
    if (!open.size) return;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const brokerTopic = this.prefix + dlqTopic;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: brokerTopic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let finished = false;
        const finish = () => {
          finished = true;
          resolve();
        };
        consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const range = ranges.get(partition);
              const offset = BigInt(message.offset);
              if (finished || !range || offset < range.start) return;
              if (offset >= range.end) {
                open.delete(partition);
              } else {
                const commit = () => consumer.commitOffsets([{ topic: brokerTopic, partition, offset: String(offset + 1n) }]);
                if (!(await handle(partition, message, commit))) return finish();
                if (offset + 1n >= range.end) open.delete(partition);
              }
              if (!open.size) finish();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
}

function deadLetterOf(topic: string, partition: number, message: KafkaMessage, replayed: boolean): DeadLetter {
  const headers = kafkaHeaderValues(message.headers);
  const envelope = parseEnvelope(message.value?.toString() ?? '');
  const number = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : null);
  return {
    partition,
    offset: message.offset,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: message.key?.toString() ?? null,
    eventId: envelope?.id ?? null,
    eventType: headers[EventHeaders.eventType] ?? envelope?.type ?? null,
    error: headers[DeadLetterHeaders.error] ?? null,
    attempts: number(headers[DeadLetterHeaders.attempts]),
    originalTopic: headers[DeadLetterHeaders.originalTopic] ?? topic.replace(/\.dlq$/, ''),
    originalPartition: number(headers[DeadLetterHeaders.originalPartition]),
    originalOffset: headers[DeadLetterHeaders.originalOffset] ?? null,
    replayed,
  };
}

/** The message's own headers as it was first published, and where the replay took it from. */
function replayHeaders(headers: IHeaders | undefined, source: string): Record<string, string> {
  const original = Object.entries(kafkaHeaderValues(headers)).filter(([name]) => !DEAD_LETTER_HEADER_NAMES.has(name));
  return { ...Object.fromEntries(original), 'x-replayed-from': source };
}

function parseEnvelope(body: string): { id?: string; type?: string } | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (!parsed || typeof parsed !== 'object') return undefined;
    const { id, type } = parsed as Record<string, unknown>;
    return { id: typeof id === 'string' ? id : undefined, type: typeof type === 'string' ? type : undefined };
  } catch {
    return undefined;
  }
}

function saslOptions(config: KafkaConfig): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (!mechanism) return undefined;
  if (!username || !password) throw new CliError(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  return { mechanism, username, password } as SASLOptions;
}
