import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PrivacyParticipant } from '@multipult/events';

export const NOTIFICATIONS_PRIVACY_SERVICE = 'notifications';

type Rows<T> = [T[], number];

/**
 * The notifications service's part of the GDPR sagas. Erasure deletes the user's inbox, stream,
 * preferences, emails (by user and by address), cursors, memberships and their recipient entry;
 * rows others keep (notifications they caused, announcements and webhooks they created) lose the
 * reference to them.
 */
@Injectable()
export class NotificationsUserDataService implements OnApplicationBootstrap {
  constructor(private readonly participant: PrivacyParticipant) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.participant.start({
      service: NOTIFICATIONS_PRIVACY_SERVICE,
      erase: (manager, userId) => this.erase(manager, userId),
      collect: (manager, userId) => this.collect(manager, userId),
    });
  }

  async erase(manager: EntityManager, userId: string): Promise<Record<string, number>> {
    const [recipient]: { email: string }[] = await manager.query('SELECT email FROM recipients WHERE user_id = $1', [userId]);
    const count = async (sql: string, params: unknown[] = [userId]) => ((await manager.query(sql, params)) as Rows<unknown>)[1];
    return {
      notifications: await count('DELETE FROM notifications WHERE recipient_id = $1'),
      notificationsCausedAnonymized: await count('UPDATE notifications SET actor_id = NULL WHERE actor_id = $1'),
      emails: await count('DELETE FROM email_deliveries WHERE user_id = $1 OR to_address = $2', [userId, recipient?.email ?? null]),
      preferences: await count('DELETE FROM preferences WHERE user_id = $1'),
      deliveryCursors: await count('DELETE FROM delivery_cursors WHERE user_id = $1'),
      digestSchedules: await count('DELETE FROM digest_schedule WHERE user_id = $1'),
      streams: await count('DELETE FROM streams WHERE user_id = $1'),
      tenantMemberships: await count('DELETE FROM tenant_members WHERE user_id = $1'),
      announcementsAnonymized: await count('UPDATE announcements SET created_by = NULL WHERE created_by = $1'),
      webhooksAnonymized: await count('UPDATE webhook_endpoints SET created_by = NULL WHERE created_by = $1'),
      recipients: await count('DELETE FROM recipients WHERE user_id = $1'),
    };
  }

  async collect(manager: EntityManager, userId: string): Promise<Record<string, unknown>> {
    const [profile]: Record<string, unknown>[] = await manager.query(
      `SELECT email, display_name AS "displayName", username, locale, email_digest AS "emailDigest", digest_hour AS "digestHour",
              time_zone AS "timeZone" FROM recipients WHERE user_id = $1`,
      [userId],
    );
    const [notifications, preferences, emails, tenants] = await Promise.all([
      manager.query(
        `SELECT id, tenant_id AS "tenantId", type, data, read_at AS "readAt", archived_at AS "archivedAt", created_at AS "createdAt"
         FROM notifications WHERE recipient_id = $1 ORDER BY sequence`,
        [userId],
      ),
      manager.query('SELECT type, channel, enabled FROM preferences WHERE user_id = $1 ORDER BY type, channel', [userId]),
      manager.query(
        `SELECT to_address AS "to", type, subject, status, created_at AS "createdAt", sent_at AS "sentAt"
         FROM email_deliveries WHERE user_id = $1 ORDER BY created_at`,
        [userId],
      ),
      manager.query('SELECT tenant_id AS "tenantId" FROM tenant_members WHERE user_id = $1', [userId]),
    ]);
    return { profile: profile ?? null, preferences, notifications, emails, tenants: tenants.map((row: { tenantId: string }) => row.tenantId) };
  }
}
