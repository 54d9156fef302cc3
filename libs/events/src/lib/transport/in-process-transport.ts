import { Logger } from '@nestjs/common';
import { consumerMetrics } from '../metrics';
import { EventTransport, OutgoingMessage, ReceivedMessage, SubscribeOptions, Subscription } from './event-transport';

/** Messages of one topic not yet consumed by every group; offsets are positions in the topic. */
interface TopicLog {
  firstOffset: number;
  messages: ReceivedMessage[];
}

interface Subscriber extends SubscribeOptions {
  stopping: AbortController;
  /** Deliveries run one after another, in publish order. */
  delivering: Promise<void>;
  retryTimer?: NodeJS.Timeout;
}

/** Messages published to a topic nobody has subscribed to yet are kept for late subscribers, up to this many. */
const UNSUBSCRIBED_TOPIC_RETENTION = 10_000;
const FAILED_DELIVERY_RETRY_MS = 1_000;

/**
 * The event transport of the embedded single-instance mode: the same contract as Kafka (each
 * consumer group gets every message once, in order, redelivered if its handler throws), in memory.
 */
export class InProcessTransport implements EventTransport {
  private readonly logger = new Logger(InProcessTransport.name);
  private readonly topics = new Map<string, TopicLog>();
  /** Next offset to deliver, per group and topic. */
  private readonly positions = new Map<string, Map<string, number>>();
  private readonly subscribers = new Set<Subscriber>();

  constructor() {
    this.logger.warn('Events travel in process memory: single instance only (set KAFKA_BROKERS to use Kafka)');
  }

  async connect(): Promise<void> {
    // Nothing to connect to.
  }

  async disconnect(): Promise<void> {
    await Promise.all([...this.subscribers].map((subscriber) => this.unsubscribe(subscriber)));
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    for (const message of messages) {
      const log = this.topicLog(message.topic);
      const offset = log.firstOffset + log.messages.length;
      log.messages.push({ ...message, partition: 0, offset: String(offset) });
      this.trim(message.topic);
    }
    const topics = new Set(messages.map((message) => message.topic));
    for (const subscriber of this.subscribers) {
      if (subscriber.topics.some((topic) => topics.has(topic))) this.wake(subscriber);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const positions = this.positions.get(options.groupId) ?? new Map<string, number>();
    this.positions.set(options.groupId, positions);
    for (const topic of options.topics) {
      const log = this.topicLog(topic);
      if (!positions.has(topic)) {
        positions.set(topic, options.fromBeginning ? log.firstOffset : log.firstOffset + log.messages.length);
      }
    }
    const subscriber: Subscriber = { ...options, stopping: new AbortController(), delivering: Promise.resolve() };
    this.subscribers.add(subscriber);
    this.wake(subscriber);
    return { stop: () => this.unsubscribe(subscriber) };
  }

  private async unsubscribe(subscriber: Subscriber): Promise<void> {
    subscriber.stopping.abort();
    clearTimeout(subscriber.retryTimer);
    this.subscribers.delete(subscriber);
    await subscriber.delivering;
    // Another member of the group takes over the topics this one owned.
    for (const other of this.subscribers) if (other.groupId === subscriber.groupId) this.wake(other);
  }

  private wake(subscriber: Subscriber): void {
    subscriber.delivering = subscriber.delivering.then(() => this.deliverPending(subscriber));
  }

  private async deliverPending(subscriber: Subscriber): Promise<void> {
    const { groupId, stopping } = subscriber;
    const positions = this.positions.get(groupId) as Map<string, number>;
    const { lag } = consumerMetrics();
    for (const topic of subscriber.topics) {
      // Like a single-partition topic: one member of a group (the longest subscribed) gets its messages.
      if (this.ownerOf(groupId, topic) !== subscriber) continue;
      const log = this.topicLog(topic);
      for (;;) {
        const position = positions.get(topic) as number;
        const message = log.messages[position - log.firstOffset];
        if (!message || stopping.signal.aborted) break;
        try {
          await subscriber.handler(message, { signal: stopping.signal, heartbeat: async () => undefined });
        } catch (error) {
          if (stopping.signal.aborted) return;
          this.logger.error(`Delivery of ${topic}@${position} to ${groupId} failed, retrying: ${String(error)}`);
          clearTimeout(subscriber.retryTimer);
          subscriber.retryTimer = setTimeout(() => this.wake(subscriber), FAILED_DELIVERY_RETRY_MS);
          return;
        }
        positions.set(topic, position + 1);
        lag.set({ group: groupId, topic, partition: '0' }, log.firstOffset + log.messages.length - position - 1);
        this.trim(topic);
      }
    }
  }

  private ownerOf(groupId: string, topic: string): Subscriber | undefined {
    return [...this.subscribers].find((member) => member.groupId === groupId && member.topics.includes(topic));
  }

  private topicLog(topic: string): TopicLog {
    let log = this.topics.get(topic);
    if (!log) {
      log = { firstOffset: 0, messages: [] };
      this.topics.set(topic, log);
    }
    return log;
  }

  /** Drops what every group that reads the topic has consumed, so memory stays bounded. */
  private trim(topic: string): void {
    const log = this.topicLog(topic);
    const readers = [...this.positions.values()].flatMap((positions) => positions.get(topic) ?? []);
    const keepFrom = readers.length
      ? Math.min(...readers)
      : log.firstOffset + log.messages.length - UNSUBSCRIBED_TOPIC_RETENTION;
    const drop = Math.max(0, Math.min(keepFrom - log.firstOffset, log.messages.length));
    if (!drop) return;
    log.messages.splice(0, drop);
    log.firstOffset += drop;
  }
}
