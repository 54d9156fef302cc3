import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RenderedEmail } from '../catalog/template-renderer';
import { EmailJobs } from './email-jobs';

export interface EmailToQueue {
  userId: string | null;
  to: string;
  type: string;
  locale: string;
  email: RenderedEmail;
  /** The page it is about, listed in the digest. */
  link: string | null;
  /** Waits for the user's daily digest instead of going out now. */
  digest: boolean;
  sourceEventId: string | null;
}

/**
 * The email queue in Postgres: each email's row and its delivery job are written in the
 * transaction that caused the email, so an email is neither lost (the event is processed) nor
 * sent for something that rolled back. Digest items wait for the digest without a job.
 */
@Injectable()
export class EmailQueue {
  constructor(private readonly jobs: EmailJobs) {}

  async enqueue(manager: EntityManager, emails: EmailToQueue[]): Promise<void> {
    for (const item of emails) {
      const [{ id }]: { id: string }[] = await manager.query(
        `INSERT INTO email_deliveries (user_id, to_address, type, locale, subject, text_body, html_body, link, status, source_event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [
          item.userId,
          item.to,
          item.type,
          item.locale,
          item.email.subject,
          item.email.text,
          item.email.html,
          item.link,
          item.digest ? 'digest' : 'pending',
          item.sourceEventId,
        ],
      );
      if (!item.digest) await this.jobs.enqueue(manager, [id]);
      if (item.digest && item.userId) {
        await manager.query(
          `INSERT INTO digest_schedule (user_id, due_at)
           SELECT user_id, next_digest_at(digest_hour, time_zone) FROM recipients WHERE user_id = $1
           ON CONFLICT (user_id) DO NOTHING`,
          [item.userId],
        );
      }
    }
  }
}
