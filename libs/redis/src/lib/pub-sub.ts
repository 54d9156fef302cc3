import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { REDIS_CLIENT_OPTIONS } from './client-options';

export const PUB_SUB = Symbol('PUB_SUB');

export type Unsubscribe = () => Promise<void>;

export interface SubscribeOptions {
  /**
   * Called once the subscription is live again after a break in which messages on the channel may
   * have been lost: this instance's connection to Redis dropped, or a publisher's publish failed.
   * The listener reads what it must not miss from its store.
   */
  onGap?: () => void;
}

/**
 * Fire-and-forget fan-out between the instances of a service (live notifications, presence):
 * every subscriber of a channel, on any instance, receives each message published after it
 * subscribed, or is told of a gap. Nothing is stored: what must survive is written to Postgres first.
 */
export interface PubSub {
  readonly kind: 'redis' | 'memory';
  /** Settles within a bound: a message Redis did not take in time fails, and subscribers are told of a gap. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: (message: string) => void, options?: SubscribeOptions): Promise<Unsubscribe>;
  close(): Promise<void>;
}

/** Channels a publisher remembers as having lost a message; past it, every channel is told of a gap. */
const MAX_GAP_CHANNELS = 10_000;
const ALL_CHANNELS = '*';

/** Redis client names may not contain spaces or other odd characters. */
const clientName = (prefix: string, role: string) => `${prefix}pubsub-${role}`.replace(/[^\w:.-]/g, '_');

/**
 * Redis pub/sub on two connections (a subscribed connection can do nothing else). Channels carry
 * the key prefix, so deployments (and test runs) sharing one Redis never hear each other.
 *
 * Gaps: after the subscriber connection comes back, it subscribes every channel again and, once
 * Redis has confirmed, tells each channel's listeners. A publish that fails is announced on the
 * prefix's gap channel when the publisher's connection is back, so subscribers on every instance
 * learn of it too.
 */
export class RedisPubSub implements PubSub {
  readonly kind = 'redis' as const;
  private readonly listeners = new EventEmitter();
  private readonly gapListeners = new EventEmitter();
  private readonly logger = new Logger('PubSub');
  private readonly gapChannel: string;
  /** Channels (without prefix) whose published message was lost and whose subscribers are not yet told. */
  private readonly unannounced = new Set<string>();
  private subscriberWasReady = false;
  private closing = false;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    this.gapChannel = `${prefix}pubsub:gaps`;
    this.listeners.setMaxListeners(0);
    this.gapListeners.setMaxListeners(0);
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const name = channel.toString();
      if (name === this.gapChannel) this.heardOfGaps(message.toString());
      else this.listeners.emit(name, message.toString());
    });
    subscriber.on('error', (error: Error) => this.logger.warn(`Redis subscriber: ${error.message}`));
    subscriber.on('ready', () => void this.subscriberReady());
    publisher.on('ready', () => void this.announceGaps());
  }

  static connect(url: string, prefix: string): RedisPubSub {
    return new RedisPubSub(
      // A publish that failed is announced as a gap, so it is never sent again later, out of order.
      new Redis(url, { ...REDIS_CLIENT_OPTIONS, connectionName: clientName(prefix, 'publisher'), autoResendUnfulfilledCommands: false }),
      // Re-subscribing after a reconnect is ours (not ioredis's), so listeners hear of the gap only once it is confirmed.
      new Redis(url, { ...REDIS_CLIENT_OPTIONS, connectionName: clientName(prefix, 'subscriber'), autoResubscribe: false }),
      prefix,
    );
  }

  async publish(channel: string, message: string): Promise<void> {
    try {
      await this.publisher.publish(this.prefix + channel, message);
    } catch (error) {
      this.rememberGap(channel);
      if (this.publisher.status === 'ready') void this.announceGaps();
      throw error;
    }
  }

  async subscribe(channel: string, listener: (message: string) => void, options: SubscribeOptions = {}): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    if (this.listeners.listenerCount(name) === 0) await this.subscriber.subscribe(name, this.gapChannel);
    this.listeners.on(name, listener);
    const { onGap } = options;
    if (onGap) this.gapListeners.on(channel, onGap);
    return async () => {
      this.listeners.off(name, listener);
      if (onGap) this.gapListeners.off(channel, onGap);
      if (this.listeners.listenerCount(name) === 0) await this.subscriber.unsubscribe(name);
    };
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.listeners.removeAllListeners();
    this.gapListeners.removeAllListeners();
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
  }

  /** The first ready is the first connection; every later one follows a break. */
  private async subscriberReady(): Promise<void> {
    const reconnected = this.subscriberWasReady;
    this.subscriberWasReady = true;
    const channels = this.listeners.eventNames().map(String);
    if (!reconnected || !channels.length || this.closing) return;
    try {
      await this.subscriber.subscribe(...channels, this.gapChannel);
    } catch (error) {
      // The connection dropped again; its next ready tries again.
      this.logger.warn(`Re-subscribing after a reconnect failed: ${(error as Error).message}`);
      return;
    }
    this.logger.log(`Re-subscribed ${channels.length} channel(s) after a reconnect; listeners re-read what they may have missed`);
    for (const channel of this.gapListeners.eventNames().map(String)) this.gapListeners.emit(channel);
  }

  private rememberGap(channel: string): void {
    if (this.unannounced.has(ALL_CHANNELS)) return;
    if (this.unannounced.size >= MAX_GAP_CHANNELS) {
      this.unannounced.clear();
      this.unannounced.add(ALL_CHANNELS);
      return;
    }
    this.unannounced.add(channel);
  }

  private async announceGaps(): Promise<void> {
    if (!this.unannounced.size || this.closing) return;
    const channels = [...this.unannounced];
    this.unannounced.clear();
    try {
      await this.publisher.publish(this.gapChannel, JSON.stringify(channels));
    } catch (error) {
      for (const channel of channels) this.rememberGap(channel);
      this.logger.warn(`Announcing lost messages on ${channels.length} channel(s) failed; retried on reconnect: ${(error as Error).message}`);
    }
  }

  private heardOfGaps(raw: string): void {
    let channels: unknown;
    try {
      channels = JSON.parse(raw);
    } catch {
      channels = null;
    }
    if (!Array.isArray(channels)) {
      this.logger.warn('Dropped a malformed gap announcement');
      return;
    }
    const targets = channels.includes(ALL_CHANNELS) ? this.gapListeners.eventNames().map(String) : channels.map(String);
    for (const channel of targets) this.gapListeners.emit(channel);
  }
}

/** The single-instance stand-in: delivery within this process only, so never a gap. */
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
