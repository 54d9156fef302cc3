import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';

export const PUB_SUB = Symbol('PUB_SUB');

export type Unsubscribe = () => Promise<void>;

/**
 * Fire-and-forget fan-out between the instances of a service (live notifications, presence):
 * every subscriber of a channel, on any instance, receives each message published after it
 * subscribed. Nothing is stored: what must survive is written to Postgres first.
 */
export interface PubSub {
  readonly kind: 'redis' | 'memory';
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: (message: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}

/**
 * Redis pub/sub on two connections (a subscribed connection can do nothing else). Channels carry
 * the key prefix, so deployments (and test runs) sharing one Redis never hear each other.
 */
export class RedisPubSub implements PubSub {
  readonly kind = 'redis' as const;
  private readonly listeners = new EventEmitter();
  private readonly logger = new Logger('PubSub');

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    this.listeners.setMaxListeners(0);
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      this.listeners.emit(channel.toString(), message.toString());
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`Redis subscriber: ${error.message}`));
  }

  static connect(url: string, prefix: string): RedisPubSub {
    const options = { maxRetriesPerRequest: 2, connectTimeout: 5_000 };
    // ioredis re-subscribes every channel after a reconnect (autoResubscribe).
    return new RedisPubSub(new Redis(url, options), new Redis(url, options), prefix);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    if (this.listeners.listenerCount(name) === 0) await this.subscriber.subscribe(name);
    this.listeners.on(name, listener);
    return async () => {
      this.listeners.off(name, listener);
      if (this.listeners.listenerCount(name) === 0) await this.subscriber.unsubscribe(name);
    };
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    this.listeners.removeAllListeners();
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
  }
}

/** The single-instance stand-in: delivery within this process only. */
export class MemoryPubSub implements PubSub {
  readonly kind = 'memory' as const;
  private readonly listeners = new EventEmitter();

  constructor() {
    this.listeners.setMaxListeners(0);
  }

  async publish(channel: string, message: string): Promise<void> {
    // Asynchronous like Redis: a publisher never runs its subscribers inside its own call stack.
    setImmediate(() => this.listeners.emit(channel, message));
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<Unsubscribe> {
    this.listeners.on(channel, listener);
    return async () => {
      this.listeners.off(channel, listener);
    };
  }

  async close(): Promise<void> {
    this.listeners.removeAllListeners();
  }
}
