import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig } from '@multipult/config';
import { AsyncQueue, CloseCodes, RealtimeConnection } from '@multipult/realtime';
import type { NotificationsConfig } from '../config';
import { Notification } from '../notifications/notification.entity';
import { CLIENT_ID_PATTERN } from '../notifications/dto';
import { NotificationsService } from '../notifications/notifications.service';
import { LiveBus } from './live-bus';

/** The client's resume position key from connection_init, when well-formed. */
function clientIdOf(connection: RealtimeConnection): string | null {
  const clientId = connection.params.clientId;
  return typeof clientId === 'string' && CLIENT_ID_PATTERN.test(clientId) ? clientId : null;
}

/** Messages a subscription may have waiting for a slow socket before the socket is closed (the client resumes from its ack). */
const MAX_BUFFERED = 1_000;

/**
 * The iterators behind the subscriptions. Notifications go out in stream order exactly once per
 * socket: the stored ones after the client's position first, then live ones; a live message
 * that skips ahead (one lost on the bus) makes the gap be read from Postgres before it, and so
 * does the bus telling of a gap (a lost connection to Redis, a failed publish).
 */
@Injectable()
export class LiveStreams {
  private readonly logger = new Logger(LiveStreams.name);
  /** Per socket, the highest stream sequence sent on it: nothing at or below it is sent again. */
  private readonly deliveredUpTo = new WeakMap<RealtimeConnection, number>();

  constructor(
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly live: LiveBus,
    private readonly notifications: NotificationsService,
  ) {}

  async notificationsOf(connection: RealtimeConnection, userId: string, afterSequence: number | null): Promise<AsyncQueue<Notification>> {
    const delivered = () => this.deliveredUpTo.get(connection) ?? 0;
    const deliver = (sequence: number) => this.deliveredUpTo.set(connection, Math.max(delivered(), sequence));
    let begin!: (start: number) => void;
    const queue: AsyncQueue<Notification> = new AsyncQueue(() => {
      stopListening();
      stopGapListening();
    });
    const emit = (notification: Notification) => {
      if (notification.sequence <= delivered()) return;
      deliver(notification.sequence);
      queue.push(notification);
      if (queue.length > MAX_BUFFERED) connection.close(CloseCodes.tryAgainLater, 'Client too slow; resubscribe after your last acknowledged sequence');
    };
    const catchUp = async (upTo: number) => {
      while (!queue.done && delivered() < upTo) {
        const page = await this.notifications.after(userId, delivered(), this.config.REALTIME_REPLAY_PAGE_SIZE);
        page.forEach(emit);
        if (page.length < this.config.REALTIME_REPLAY_PAGE_SIZE) return;
      }
    };
    const failed = (error: Error) => {
      this.logger.warn(`Notification stream of ${userId} failed: ${error.message}`);
      connection.close(CloseCodes.tryAgainLater, 'Stream interrupted; resubscribe after your last acknowledged sequence');
    };
    // Every step runs after the previous one; the first replays from the start position once it is known.
    let chain: Promise<void> = new Promise<number>((resolve) => (begin = resolve))
      .then(async (start) => {
        deliver(start);
        await catchUp(Number.MAX_SAFE_INTEGER);
      })
      .catch(failed);
    const serially = (step: () => Promise<void>) => {
      chain = chain.then(step).catch(failed);
    };
    // Listen before reading the start position, so nothing committed in between is missed.
    const stopListening = this.live.onUser(userId, (message) => {
      if (message.kind !== 'notification') return;
      const { notification } = message;
      serially(async () => {
        if (notification.sequence > delivered() + 1) await catchUp(notification.sequence - 1);
        emit(notification);
      });
    });
    // Whatever was lost on the bus is in Postgres after the position already sent.
    const stopGapListening = this.live.onGap(() => serially(() => catchUp(Number.MAX_SAFE_INTEGER)));
    try {
      const clientId = clientIdOf(connection);
      const stored = afterSequence ?? (clientId ? await this.notifications.acknowledged(userId, clientId) : null);
      begin(stored ?? (await this.notifications.lastSequence(userId)));
    } catch (error) {
      await queue.return();
      throw error;
    }
    return queue;
  }

  /** The current count at once, then each change (re-read, coalesced, so the last value sent is the latest). */
  unreadCountOf(userId: string): AsyncQueue<number> {
    let reading = false;
    let stale = false;
    let lastSent: number | null = null;
    const queue: AsyncQueue<number> = new AsyncQueue(() => {
      stopListening();
      stopGapListening();
    });
    const refresh = async (): Promise<void> => {
      if (reading) {
        stale = true;
        return;
      }
      reading = true;
      try {
        do {
          stale = false;
          const count = await this.notifications.unreadCount(userId);
          if (count !== lastSent) queue.push((lastSent = count));
        } while (stale && !queue.done);
      } catch (error) {
        this.logger.warn(`Unread count of ${userId} failed: ${(error as Error).message}`);
      } finally {
        reading = false;
      }
    };
    const stopListening = this.live.onUser(userId, (message) => {
      if (message.kind === 'unread') void refresh();
    });
    const stopGapListening = this.live.onGap(() => void refresh());
    void refresh();
    return queue;
  }
}
