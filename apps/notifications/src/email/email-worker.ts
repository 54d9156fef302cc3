import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { equalJitterDelay } from '@multipult/events';
import { Locale, pickLocale } from '@multipult/graphql';
import { counter } from '@multipult/observability';
import { TemplateRenderer } from '../catalog/template-renderer';
import type { NotificationsConfig } from '../config';
import { QueueWorker } from '../queue/queue-worker';
import { EmailSender } from './email-sender';

interface ClaimedEmail {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
}

const emailsSent = () =>
  counter({ name: 'notifications_emails_total', help: 'Email send attempts by result', labelNames: ['result'] as const });

/**
 * Sends queued emails: claims due rows (SKIP LOCKED, so instances share the queue), retries
 * transient failures with backoff, records permanent ones as failed, and turns each user's
 * waiting digest items into one email when their digest time comes.
 */
@Injectable()
export class EmailWorker extends QueueWorker {
  protected readonly pollIntervalMs: number;
  private readonly sender: EmailSender;
  private readonly metrics = emailsSent();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly renderer: TemplateRenderer,
  ) {
    super();
    this.pollIntervalMs = config.EMAIL_POLL_INTERVAL_MS;
    this.sender = new EmailSender({ smtpUrl: config.SMTP_URL, from: config.EMAIL_FROM, timeoutMs: config.EMAIL_SEND_TIMEOUT_MS });
  }

  override async onApplicationShutdown(): Promise<void> {
    await super.onApplicationShutdown();
    this.sender.close();
  }

  protected async pass(): Promise<boolean> {
    await this.composeDueDigests();
    return (await this.sendDueBatch()) === this.config.EMAIL_BATCH_SIZE;
  }

  private async sendDueBatch(): Promise<number> {
    // The lease (next_attempt_at in the future) lets another instance retake a row whose sender died mid-send.
    const [claimed]: [ClaimedEmail[], number] = await this.dataSource.query(
      `UPDATE email_deliveries SET status = 'sending', attempts = attempts + 1,
         next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (
         SELECT id FROM email_deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, to_address, subject, text_body, html_body, attempts`,
      [this.config.EMAIL_BATCH_SIZE, this.config.EMAIL_SEND_TIMEOUT_MS * 2],
    );
    await Promise.all(claimed.map((email) => this.deliver(email)));
    return claimed.length;
  }

  private async deliver(email: ClaimedEmail): Promise<void> {
    const outcome = await this.sender.send({
      to: email.to_address,
      subject: email.subject,
      text: email.text_body,
      html: email.html_body,
      deliveryId: email.id,
    });
    if (outcome.status === 'sent') {
      this.metrics.inc({ result: 'sent' });
      await this.dataSource.query(
        `UPDATE email_deliveries SET status = 'sent', sent_at = now(), message_id = $2, last_error = NULL WHERE id = $1`,
        [email.id, outcome.messageId],
      );
      return;
    }
    const giveUp = outcome.permanent || email.attempts >= this.config.EMAIL_MAX_ATTEMPTS;
    this.metrics.inc({ result: giveUp ? 'failed' : 'retry' });
    const delayMs = equalJitterDelay(email.attempts, { initialMs: this.config.EMAIL_RETRY_INITIAL_MS, maxMs: this.config.EMAIL_RETRY_MAX_MS });
    if (giveUp) this.logger.warn(`Email ${email.id} failed after ${email.attempts} attempt(s): ${outcome.error}`);
    await this.dataSource.query(
      `UPDATE email_deliveries SET status = $2, last_error = $3,
         next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
       WHERE id = $1`,
      [email.id, giveUp ? 'failed' : 'pending', outcome.error, delayMs],
    );
  }

  private async composeDueDigests(): Promise<void> {
    for (;;) {
      const composed = await this.dataSource.transaction(async (manager) => {
        // UPDATE and DELETE answer [rows, count] through TypeORM.
        const [[due]]: [{ user_id: string }[], number] = await manager.query(
          `DELETE FROM digest_schedule WHERE user_id = (
             SELECT user_id FROM digest_schedule WHERE due_at <= now() ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING user_id`,
        );
        if (!due) return false;
        await this.composeDigest(manager, due.user_id);
        return true;
      });
      if (!composed || this.stopped) return;
    }
  }

  private async composeDigest(manager: EntityManager, userId: string): Promise<void> {
    const items: { id: string; subject: string; link: string | null }[] = await manager.query(
      `SELECT id, subject, link FROM email_deliveries WHERE user_id = $1 AND status = 'digest' ORDER BY created_at FOR UPDATE`,
      [userId],
    );
    const [recipient]: { email: string; display_name: string; locale: string }[] = await manager.query(
      'SELECT email, display_name, locale FROM recipients WHERE user_id = $1',
      [userId],
    );
    if (!items.length || !recipient) return;
    const locale: Locale = pickLocale([recipient.locale]);
    const digest = this.renderer.digest(
      locale,
      recipient.display_name,
      items.map((item) => ({ subject: item.subject, link: item.link })),
    );
    const [{ id: digestId }]: { id: string }[] = await manager.query(
      `INSERT INTO email_deliveries (user_id, to_address, type, locale, subject, text_body, html_body, status)
       VALUES ($1, $2, 'digest', $3, $4, $5, $6, 'pending') RETURNING id`,
      [userId, recipient.email, locale, digest.subject, digest.text, digest.html],
    );
    await manager.query(`UPDATE email_deliveries SET status = 'digested', digest_id = $2 WHERE id = ANY($1::uuid[])`, [
      items.map((item) => item.id),
      digestId,
    ]);
  }
}
