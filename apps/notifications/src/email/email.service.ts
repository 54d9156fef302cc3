import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
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
    if (!emails.length) return;
    // Ids made here, so the rows need not come back in the order they went in.
    const ids = emails.map(() => randomUUID());
    const column = <K extends keyof EmailToQueue>(key: K) => emails.map((item) => item[key]);
    await manager.query(
      `INSERT INTO email_deliveries (id, user_id, to_address, type, locale, subject, text_body, html_body, link, status, source_event_id)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::uuid[])`,
      [
        ids,
        column('userId'),
        column('to'),
        column('type'),
        column('locale'),
        emails.map((item) => item.email.subject),
        emails.map((item) => item.email.text),
        emails.map((item) => item.email.html),
        column('link'),
        emails.map((item) => (item.digest ? 'digest' : 'pending')),
        column('sourceEventId'),
      ],
    );
    await this.jobs.enqueue(manager, ids.filter((_, index) => !emails[index].digest));
    const digestUsers = [...new Set(emails.flatMap((item) => (item.digest && item.userId ? [item.userId] : [])))];
    if (digestUsers.length) {
      await manager.query(
        `INSERT INTO digest_schedule (user_id, due_at)
         SELECT user_id, next_digest_at(digest_hour, time_zone) FROM recipients WHERE user_id = ANY($1::uuid[])
         ON CONFLICT (user_id) DO NOTHING`,
        [digestUsers],
      );
    }
  }
}
