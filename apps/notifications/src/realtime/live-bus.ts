import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { PUB_SUB, PubSub } from '@multipult/redis';
import { Notification } from '../notifications/notification.entity';

/** What one instance tells every instance (and so every connected client) through Redis pub/sub. */
export type LiveMessage =
  | { kind: 'notification'; userId: string; notification: Notification }
  /** The user's unread count changed; listeners read it (so a late message never shows a stale count). */
  | { kind: 'unread'; userId: string }
  | { kind: 'presence'; userId: string; tenantIds: string[]; online: boolean; lastSeenAt: string }
  | { kind: 'typing'; userId: string; tenantId: string; documentId: string; typing: boolean; expiresAt: string };

type UserMessage = Extract<LiveMessage, { userId: string; kind: 'notification' | 'unread' }>;
type Listener<M> = (message: M) => void;

const CHANNEL = 'notifications:live';
const GAP_SPREAD_MS = 1_000;

function revive(message: LiveMessage): LiveMessage {
  if (message.kind !== 'notification') return message;
  const raw = message.notification as unknown as Record<string, string | null>;
  const date = (value: string | null) => (value === null ? null : new Date(value));
  return {
    ...message,
    notification: Object.assign(new Notification(), raw, {
      createdAt: new Date(raw.createdAt as string),
      readAt: date(raw.readAt),
      archivedAt: date(raw.archivedAt),
    }),
  };
}

/**
 * Fan-out between instances: one Redis channel carries every live message; each instance hands
 * them to the listeners of its own connections (by user, by session, by tenant). What a client
 * must not miss is in Postgres first and replayed from there; this bus only makes it immediate.
 */
@Injectable()
export class LiveBus implements OnModuleInit {
  private readonly logger = new Logger(LiveBus.name);
  private readonly byUser = new Map<string, Set<Listener<UserMessage>>>();
  private readonly broadcast = new Set<Listener<LiveMessage>>();
  private readonly gapListeners = new Set<() => void>();

  constructor(@Inject(PUB_SUB) private readonly pubSub: PubSub) {}

  async onModuleInit(): Promise<void> {
    // The subscription lasts as long as the process; PubSub closes it on shutdown.
    await this.pubSub.subscribe(CHANNEL, (raw) => this.dispatch(raw), { onGap: () => this.gapped() });
  }

  async publish(messages: LiveMessage[]): Promise<void> {
    await Promise.all(messages.map((message) => this.pubSub.publish(CHANNEL, JSON.stringify(message))));
  }

  /** Notifications and unread counts of one user. */
  onUser(userId: string, listener: Listener<UserMessage>): () => void {
    let listeners = this.byUser.get(userId);
    if (!listeners) this.byUser.set(userId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (!listeners.size) this.byUser.delete(userId);
    };
  }

  /** Every other message (presence, typing); listeners filter what they need. */
  onEvery(listener: Listener<LiveMessage>): () => void {
    this.broadcast.add(listener);
    return () => this.broadcast.delete(listener);
  }

  /** Told when messages may have been lost on the bus: listeners re-read their state from Postgres. */
  onGap(listener: () => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  /** Spread over a second, so thousands of sockets re-reading at once do not queue up every other query. */
  private gapped(): void {
    this.logger.log(`Live messages may have been lost; ${this.gapListeners.size} stream(s) re-read their state`);
    for (const listener of this.gapListeners) setTimeout(listener, Math.random() * GAP_SPREAD_MS).unref();
  }

  private dispatch(raw: string): void {
    let message: LiveMessage;
    try {
      message = revive(JSON.parse(raw) as LiveMessage);
    } catch {
      this.logger.warn('Dropped a malformed live message');
      return;
    }
    if (message.kind === 'notification' || message.kind === 'unread') {
      for (const listener of this.byUser.get(message.userId) ?? []) listener(message);
      return;
    }
    for (const listener of this.broadcast) listener(message);
  }
}
