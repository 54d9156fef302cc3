/** A message to publish: the body is the JSON envelope, the key the aggregate id. */
export interface OutgoingMessage {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

/** A message as a consumer receives it, with where it came from (for dead-lettering). */
export interface ReceivedMessage extends OutgoingMessage {
  partition: number;
  offset: string;
}

/** What a handler may need from the delivery besides the message. */
export interface DeliveryControl {
  /** Aborted when the subscription stops: abandon retries, the message is redelivered later. */
  signal: AbortSignal;
  /** Keeps the consumer in its group during long retries (a no-op where there is no group protocol). */
  heartbeat(): Promise<void>;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /**
   * Resolving marks the message done. Throwing leaves it undone: it is delivered again
   * (after a restart of the consumer), so handlers must be idempotent.
   */
  handler(message: ReceivedMessage, control: DeliveryControl): Promise<void>;
  /**
   * Where the transport can, consecutive messages of one partition (at most `maxBatchSize`) come
   * here together instead of one by one to `handler`; resolving marks them all done, throwing none.
   * Transports without batches (in-process, hub) keep calling `handler`.
   */
  batchHandler?(messages: ReceivedMessage[], control: DeliveryControl): Promise<void>;
  /** At most this many messages per `batchHandler` call (default 1: `handler` only). */
  maxBatchSize?: number;
}

export interface Subscription {
  /** Waits for the message being handled, then leaves the group. */
  stop(): Promise<void>;
}

/** Moves messages between services: Kafka in full mode, memory in the single-instance embedded mode. */
export interface EventTransport {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Resolves once every message is durably accepted; keeps the given order per topic and key. */
  publish(messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
}

export const EVENT_TRANSPORT = Symbol('EVENT_TRANSPORT');

export const deadLetterTopic = (topic: string) => `${topic}.dlq`;

/** Where a consumer parks an event that overran its handling deadline, to be retried after a backoff. */
export const retryTopic = (topic: string) => `${topic}.retry`;
