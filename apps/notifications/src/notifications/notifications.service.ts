import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Connection, KeysetOrder, paginate } from '@multipult/graphql';
import { LiveBus, LiveMessage } from '../realtime/live-bus';
import { NotificationsArgs } from './dto';
import { Notification } from './notification.entity';

export interface NewNotification {
  recipientId: string;
  tenantId: string | null;
  type: string;
  data: Record<string, string>;
  actorId: string | null;
  sourceEventId: string | null;
}

interface NotificationRow {
  id: string;
  recipient_id: string;
  sequence: string;
  tenant_id: string | null;
  type: string;
  data: Record<string, string>;
  actor_id: string | null;
  source_event_id: string | null;
  read_at: Date | null;
  archived_at: Date | null;
  created_at: Date;
}

export function notificationFromRow(row: NotificationRow): Notification {
  return Object.assign(new Notification(), {
    id: row.id,
    recipientId: row.recipient_id,
    sequence: Number(row.sequence),
    tenantId: row.tenant_id,
    type: row.type,
    data: row.data,
    actorId: row.actor_id,
    sourceEventId: row.source_event_id,
    readAt: row.read_at,
    archivedAt: row.archived_at,
    createdAt: row.created_at,
  });
}

/**
 * Appends to the streams, any number of notifications in one statement: each recipient's `streams`
 * row advances by their count (locked in user id order, so concurrent batches cannot deadlock), and
 * the row lock orders their notifications by commit; within the statement, by position.
 */
const APPEND_SQL = `
  WITH items AS MATERIALIZED (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::uuid[], $6::uuid[])
      WITH ORDINALITY AS i(recipient_id, tenant_id, type, data, actor_id, source_event_id, position)
  ),
  counts AS MATERIALIZED (SELECT recipient_id, count(*)::int AS n FROM items GROUP BY recipient_id),
  advanced AS (
    INSERT INTO streams (user_id, last_sequence) SELECT recipient_id, n FROM counts ORDER BY recipient_id
    ON CONFLICT (user_id) DO UPDATE SET last_sequence = streams.last_sequence + EXCLUDED.last_sequence
    RETURNING user_id, last_sequence
  )
  INSERT INTO notifications (recipient_id, sequence, tenant_id, type, data, actor_id, source_event_id)
  SELECT i.recipient_id, a.last_sequence - c.n + row_number() OVER (PARTITION BY i.recipient_id ORDER BY i.position),
         i.tenant_id, i.type, i.data, i.actor_id, i.source_event_id
  FROM items i JOIN counts c USING (recipient_id) JOIN advanced a ON a.user_id = i.recipient_id
  ORDER BY i.position
  RETURNING *`;

/** Newest first by the user's stream sequence (unique per recipient). */
const NEWEST_NOTIFICATIONS = new KeysetOrder({
  connection: 'notifications.inbox',
  columns: [{ expression: 'n.sequence', type: 'integer', direction: 'DESC' }],
});

/** Each user's inbox: appending in stream order, reading, read state, archive, delete, replay. */
@Injectable()
export class NotificationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly live: LiveBus,
  ) {}

  /** The new notifications, in the order of `items` (each recipient's is their stream order). */
  async append(manager: EntityManager, items: NewNotification[]): Promise<Notification[]> {
    if (!items.length) return [];
    const rows: NotificationRow[] = await manager.query(APPEND_SQL, [
      items.map((item) => item.recipientId),
      items.map((item) => item.tenantId),
      items.map((item) => item.type),
      items.map((item) => JSON.stringify(item.data)),
      items.map((item) => item.actorId),
      items.map((item) => item.sourceEventId),
    ]);
    // RETURNING keeps no order; within a recipient, sequences follow the items.
    const byRecipient = new Map<string, Notification[]>();
    for (const notification of rows.map(notificationFromRow).sort((a, b) => a.sequence - b.sequence)) {
      const own = byRecipient.get(notification.recipientId) ?? [];
      own.push(notification);
      byRecipient.set(notification.recipientId, own);
    }
    return items.map((item) => byRecipient.get(item.recipientId)?.shift() as Notification);
  }

  /** After the commit: sends the new notifications and the recipients' unread counts to live clients. */
  async announce(notifications: Notification[]): Promise<void> {
    if (!notifications.length) return;
    const messages: LiveMessage[] = notifications.map((notification) => ({
      kind: 'notification',
      userId: notification.recipientId,
      notification,
    }));
    for (const userId of new Set(notifications.map((notification) => notification.recipientId))) {
      messages.push({ kind: 'unread', userId });
    }
    await this.live.publish(messages);
  }

  async list(userId: string, args: NotificationsArgs): Promise<Connection<Notification>> {
    const filter = this.dataSource.manager
      .createQueryBuilder(Notification, 'n')
      .where('n.recipient_id = :userId', { userId })
      .andWhere(args.archived ? 'n.archived_at IS NOT NULL' : 'n.archived_at IS NULL');
    if (args.unreadOnly) filter.andWhere('n.read_at IS NULL');
    if (args.types?.length) filter.andWhere('n.type = ANY(:types)', { types: args.types });
    return paginate(filter, NEWEST_NOTIFICATIONS, args);
  }

  async unreadCount(userId: string): Promise<number> {
    const [row]: { count: number }[] = await this.dataSource.query(
      'SELECT count(*)::int AS count FROM notifications WHERE recipient_id = $1 AND read_at IS NULL AND archived_at IS NULL',
      [userId],
    );
    return row.count;
  }

  /** Read state of the caller's notifications among `ids`; others' ids change nothing. */
  async markRead(userId: string, ids: string[], read: boolean): Promise<{ notifications: Notification[]; unreadCount: number }> {
    return this.change(userId, ids, `read_at = ${read ? 'coalesce(read_at, now())' : 'NULL'}`);
  }

  async archive(userId: string, ids: string[], archived: boolean): Promise<{ notifications: Notification[]; unreadCount: number }> {
    return this.change(userId, ids, `archived_at = ${archived ? 'coalesce(archived_at, now())' : 'NULL'}`);
  }

  async markAllRead(userId: string): Promise<{ markedCount: number; unreadCount: number }> {
    const [, markedCount]: [unknown, number] = await this.dataSource.query(
      'UPDATE notifications SET read_at = now() WHERE recipient_id = $1 AND read_at IS NULL AND archived_at IS NULL',
      [userId],
    );
    await this.publishUnread(userId);
    return { markedCount, unreadCount: 0 };
  }

  async delete(userId: string, ids: string[]): Promise<{ deletedIds: string[]; unreadCount: number }> {
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      'DELETE FROM notifications WHERE recipient_id = $1 AND id = ANY($2::uuid[]) RETURNING id',
      [userId, ids],
    );
    const unreadCount = await this.unreadCount(userId);
    await this.publishUnread(userId);
    return { deletedIds: rows.map((row) => row.id), unreadCount };
  }

  /** The user's notifications after `afterSequence`, oldest first (for replay to a live client). */
  async after(userId: string, afterSequence: number, limit: number): Promise<Notification[]> {
    const rows: NotificationRow[] = await this.dataSource.query(
      'SELECT * FROM notifications WHERE recipient_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3',
      [userId, afterSequence, limit],
    );
    return rows.map(notificationFromRow);
  }

  /** Stores the client's position; it only moves forward, and never past what exists. */
  async acknowledge(userId: string, clientId: string, sequence: number): Promise<number> {
    const [row]: { acknowledged_sequence: string }[] = await this.dataSource.query(
      `INSERT INTO delivery_cursors (user_id, client_id, acknowledged_sequence)
       VALUES ($1, $2, LEAST($3, coalesce((SELECT last_sequence FROM streams WHERE user_id = $1), 0)))
       ON CONFLICT (user_id, client_id) DO UPDATE
         SET acknowledged_sequence = GREATEST(delivery_cursors.acknowledged_sequence, excluded.acknowledged_sequence), updated_at = now()
       RETURNING acknowledged_sequence`,
      [userId, clientId, sequence],
    );
    return Number(row.acknowledged_sequence);
  }

  async acknowledged(userId: string, clientId: string): Promise<number | null> {
    const [row]: { acknowledged_sequence: string }[] = await this.dataSource.query(
      'SELECT acknowledged_sequence FROM delivery_cursors WHERE user_id = $1 AND client_id = $2',
      [userId, clientId],
    );
    return row ? Number(row.acknowledged_sequence) : null;
  }

  private async change(userId: string, ids: string[], assignment: string): Promise<{ notifications: Notification[]; unreadCount: number }> {
    const [rows]: [NotificationRow[], number] = await this.dataSource.query(
      `UPDATE notifications SET ${assignment} WHERE recipient_id = $1 AND id = ANY($2::uuid[]) RETURNING *`,
      [userId, ids],
    );
    const unreadCount = await this.unreadCount(userId);
    await this.publishUnread(userId);
    return { notifications: rows.map(notificationFromRow).sort((a, b) => b.sequence - a.sequence), unreadCount };
  }

  private async publishUnread(userId: string): Promise<void> {
    await this.live.publish([{ kind: 'unread', userId }]);
  }

  async lastSequence(userId: string): Promise<number> {
    const [row]: { last_sequence: string }[] = await this.dataSource.query('SELECT last_sequence FROM streams WHERE user_id = $1', [
      userId,
    ]);
    return row ? Number(row.last_sequence) : 0;
  }
}
