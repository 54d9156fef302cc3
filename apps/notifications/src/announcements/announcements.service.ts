import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SUPPORTED_LOCALES } from '@multipult/graphql';
import { TemplateRenderer } from '../catalog/template-renderer';
import { EmailJobs } from '../email/email-jobs';
import { notificationFromRow, NotificationsService } from '../notifications/notifications.service';
import { Announcement, PublishAnnouncementInput } from './dto';

/** The audience, as a query over user ids: one tenant's members, or every known user. */
function audienceSql(tenantId: string | null): string {
  return tenantId ? 'SELECT user_id FROM tenant_members WHERE tenant_id = $1' : 'SELECT user_id FROM recipients WHERE $1::uuid IS NULL';
}

/**
 * System announcements: written into every audience member's stream in one statement (the
 * stream rows are locked in user order, as single appends lock them), emailed to those who
 * turned announcement email on, then pushed to live clients.
 */
@Injectable()
export class AnnouncementsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationsService,
    private readonly renderer: TemplateRenderer,
    private readonly emailJobs: EmailJobs,
  ) {}

  async publish(actorId: string | null, tenantId: string | null, input: PublishAnnouncementInput): Promise<Announcement> {
    const data = { title: input.title.trim(), body: input.body.trim() };
    const emails = Object.fromEntries(SUPPORTED_LOCALES.map((locale) => [locale, this.renderer.email('announcement', locale, data)]));
    const { announcement, created } = await this.dataSource.transaction(async (manager) => {
      const rows = await manager.query(
        `WITH audience AS (
           SELECT a.user_id FROM (${audienceSql(tenantId)}) a
           WHERE NOT EXISTS (SELECT 1 FROM preferences p
             WHERE p.user_id = a.user_id AND p.type = 'announcement' AND p.channel = 'IN_APP' AND NOT p.enabled)
           ORDER BY a.user_id
         ), next AS (
           INSERT INTO streams (user_id, last_sequence) SELECT user_id, 1 FROM audience
           ON CONFLICT (user_id) DO UPDATE SET last_sequence = streams.last_sequence + 1
           RETURNING user_id, last_sequence
         )
         INSERT INTO notifications (recipient_id, sequence, tenant_id, type, data, actor_id)
         SELECT user_id, last_sequence, $1, 'announcement', $2::jsonb, $3 FROM next
         RETURNING *`,
        [tenantId, JSON.stringify(data), actorId],
      );
      const queued: { id: string }[] = await manager.query(
        `INSERT INTO email_deliveries (user_id, to_address, type, locale, subject, text_body, html_body, status)
         SELECT r.user_id, r.email, 'announcement', r.locale,
                (e.value->>'subject'), (e.value->>'text'), (e.value->>'html'), 'pending'
         FROM (${audienceSql(tenantId)}) a
         JOIN recipients r ON r.user_id = a.user_id
         JOIN preferences p ON p.user_id = a.user_id AND p.type = 'announcement' AND p.channel = 'EMAIL' AND p.enabled
         JOIN jsonb_each($2::jsonb) e ON e.key = r.locale
         RETURNING id`,
        [tenantId, JSON.stringify(emails)],
      );
      await this.emailJobs.enqueue(manager, queued.map((email) => email.id));
      const [saved] = await manager.query(
        `INSERT INTO announcements (tenant_id, title, body, created_by, recipient_count) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [tenantId, data.title, data.body, actorId, rows.length],
      );
      return { announcement: saved, created: rows.map(notificationFromRow) };
    });
    await this.notifications.announce(created);
    return {
      id: announcement.id,
      tenantId: announcement.tenant_id,
      title: announcement.title,
      body: announcement.body,
      recipientCount: announcement.recipient_count,
      createdAt: announcement.created_at,
    };
  }
}
