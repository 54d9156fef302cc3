import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { InjectConfig } from '@multipult/config';
import { Locale, pickLocale } from '@multipult/graphql';
import { JobQueue } from '@multipult/jobs';
import { counter } from '@multipult/observability';
import { TemplateRenderer } from '../catalog/template-renderer';
import type { NotificationsConfig } from '../config';
import { EmailSender } from './email-sender';

/** One job per email_deliveries row (singletonKey = its id); the row stays the record of the delivery. */
export const EMAIL_DELIVERY_QUEUE = 'email.delivery';
/** Turns due digests into emails, and queues pending rows that have no job (see requeueOrphans). */
export const EMAIL_DIGEST_QUEUE = 'email.digests';

interface EmailDeliveryJob {
  deliveryId: string;
}

interface ClaimedEmail {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
}

const emailsSent = () =>
  counter({ name: 'notifications_emails_total', help: 'Email send attempts by result', labelNames: ['result'] as const });

/** pg-boss waits retryDelay · 2^(n-1) · (1 to 2, its jitter) before retry n, capped: the earliest retry n = attempt + 1 runs. */
function earliestRetrySeconds(attempt: number, initialSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, (initialSeconds * 2 ** (attempt + 1)) / 2);
}

/**
 * Sends queued emails as durable jobs: each attempt marks its row `sending`, sends, and records
 * the outcome; a transient failure throws so the job retries with backoff, a permanent one (SMTP
 * 5xx) or the last attempt marks the row `failed` (the last attempt's job goes to the dead-letter
 * queue). A recurring job turns each user's waiting digest items into one email when their digest
 * time comes.
 */
@Injectable()
export class EmailJobs implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EmailJobs.name);
  private readonly sender: EmailSender;
  private readonly metrics = emailsSent();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: NotificationsConfig,
    private readonly jobs: JobQueue,
    private readonly renderer: TemplateRenderer,
  ) {
    this.sender = new EmailSender({ smtpUrl: config.SMTP_URL, from: config.EMAIL_FROM, timeoutMs: config.EMAIL_SEND_TIMEOUT_MS });
  }

  async onModuleInit(): Promise<void> {
    await this.jobs.define<EmailDeliveryJob>({
      name: EMAIL_DELIVERY_QUEUE,
      // One queued or running job per delivery row.
      policy: 'exclusive',
      retryLimit: this.config.EMAIL_MAX_ATTEMPTS - 1,
      retryDelaySeconds: this.config.EMAIL_RETRY_INITIAL_SECONDS,
      retryBackoff: true,
      retryDelayMaxSeconds: this.config.EMAIL_RETRY_MAX_SECONDS,
      expireInSeconds: Math.ceil((this.config.EMAIL_SEND_TIMEOUT_MS * 4) / 1000),
      concurrency: this.config.EMAIL_CONCURRENCY,
      handler: (job) => this.deliver(job.data.deliveryId, job.attempt),
    });
    await this.jobs.defineRecurring({
      name: EMAIL_DIGEST_QUEUE,
      everySeconds: this.config.EMAIL_DIGEST_CHECK_SECONDS,
      handler: async () => {
        await this.composeDueDigests();
        await this.requeueOrphans();
      },
    });
  }

  onApplicationShutdown(): void {
    this.sender.close();
  }

  /** Queues the rows' jobs in the transaction that wrote the rows. */
  async enqueue(manager: EntityManager, deliveryIds: string[]): Promise<void> {
    await this.jobs.enqueueMany<EmailDeliveryJob>(
      EMAIL_DELIVERY_QUEUE,
      deliveryIds.map((deliveryId) => ({ data: { deliveryId }, singletonKey: deliveryId })),
      { tx: manager },
    );
  }

  private async deliver(deliveryId: string, attempt: number): Promise<void> {
    const [[email]]: [ClaimedEmail[], number] = await this.dataSource.query(
      `UPDATE email_deliveries SET status = 'sending', attempts = attempts + 1
       WHERE id = $1 AND status IN ('pending', 'sending')
       RETURNING id, to_address, subject, text_body, html_body`,
      [deliveryId],
    );
    // Already finished, or deleted (an erasure): nothing to send.
    if (!email) return;
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
    const lastAttempt = attempt + 1 >= this.config.EMAIL_MAX_ATTEMPTS;
    const giveUp = outcome.permanent || lastAttempt;
    this.metrics.inc({ result: giveUp ? 'failed' : 'retry' });
    const retryInSeconds = earliestRetrySeconds(attempt, this.config.EMAIL_RETRY_INITIAL_SECONDS, this.config.EMAIL_RETRY_MAX_SECONDS);
    await this.dataSource.query(
      `UPDATE email_deliveries SET status = $2, last_error = $3, next_attempt_at = now() + make_interval(secs => $4::double precision)
       WHERE id = $1`,
      [email.id, giveUp ? 'failed' : 'pending', outcome.error, giveUp ? 0 : retryInSeconds],
    );
    if (giveUp) this.logger.warn(`Email ${email.id} failed after ${attempt + 1} attempt(s): ${outcome.error}`);
    // A permanent failure is final without retries; otherwise the job retries (or, last, is dead-lettered).
    if (outcome.permanent) return;
    throw new Error(outcome.error);
  }

  /**
   * Due pending rows without a live job get one: rows written by the operator CLI (which runs no
   * job queue), by a version before the job queue, or whose handler died before recording its
   * last failure. A row's job is committed with it, so a row with a live job is skipped by the
   * queue's exclusive policy.
   */
  private async requeueOrphans(): Promise<void> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM email_deliveries WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT 1000`,
    );
    for (const { id } of rows) await this.jobs.enqueue<EmailDeliveryJob>(EMAIL_DELIVERY_QUEUE, { deliveryId: id }, { singletonKey: id });
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
      if (!composed) return;
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
    await this.enqueue(manager, [digestId]);
  }
}
