import { randomUUID } from 'node:crypto';
import { JobQueue } from '@multipult/jobs';
import { SmtpCapture, eventually, startSmtpCapture } from '@multipult/testing';
import { NotificationsTestApp, startNotificationsTestApp } from '../testing/notifications-test-app';
import { EMAIL_DELIVERY_QUEUE } from './email-jobs';
import { EmailQueue, EmailToQueue } from './email.service';

// Emails as durable jobs through the whole app module (real PostgreSQL, pg-boss) to a real SMTP
// server that can refuse recipients.

describe('EmailJobs', () => {
  let app: NotificationsTestApp;
  let smtp: SmtpCapture;

  beforeAll(async () => {
    smtp = await startSmtpCapture();
    app = await startNotificationsTestApp('email_jobs', {
      SMTP_URL: smtp.url,
      EMAIL_MAX_ATTEMPTS: '3',
      EMAIL_RETRY_INITIAL_SECONDS: '1',
      EMAIL_RETRY_MAX_SECONDS: '2',
    });
  }, 60_000);

  afterEach(() => smtp.setPolicy(() => ({ accept: true })));

  afterAll(async () => {
    await app?.close();
    await smtp?.stop();
  });

  const email = (to: string, overrides: Partial<EmailToQueue> = {}): EmailToQueue => ({
    userId: null,
    to,
    type: 'spec',
    locale: 'en',
    email: { subject: `Hello ${to}`, text: 'text', html: '<p>html</p>' },
    link: null,
    digest: false,
    sourceEventId: null,
    ...overrides,
  });

  async function queue(emails: EmailToQueue[], options: { rollback?: boolean } = {}): Promise<void> {
    await app.dataSource
      .transaction(async (manager) => {
        await app.get(EmailQueue).enqueue(manager, emails);
        if (options.rollback) throw new Error('the consumer failed');
      })
      .catch((error: Error) => {
        if (!options.rollback) throw error;
      });
  }

  const rowsTo = (to: string) =>
    app.dataSource.query<{ id: string; status: string; attempts: number; last_error: string | null; type: string }[]>(
      `SELECT id, status, attempts, last_error, type FROM email_deliveries WHERE to_address = $1 ORDER BY created_at`,
      [to],
    );

  it('sends an email from the job written with its row, and nothing for a rolled-back one', async () => {
    await queue([email('rolled-back@example.com')], { rollback: true });
    await queue([email('first@example.com')]);

    const sent = await smtp.waitFor((message) => message.to.includes('first@example.com'));
    expect(sent.subject).toBe('Hello first@example.com');
    const [row] = await eventually('the row sent', async () => {
      const rows = await rowsTo('first@example.com');
      return rows[0]?.status === 'sent' && rows;
    });
    expect(row).toMatchObject({ attempts: 1, last_error: null });
    expect(sent.headers.get('x-multipult-delivery')).toBe(row.id);
    expect(await rowsTo('rolled-back@example.com')).toEqual([]);
  });

  it('retries transient failures, marks the row failed after EMAIL_MAX_ATTEMPTS with its job dead-lettered, and fails a bounce at once', async () => {
    smtp.setPolicy((to, attempt) => {
      if (to === 'flaky@example.com' && attempt <= 2) return { accept: false, code: 451, message: 'Try again later' };
      if (to === 'down@example.com') return { accept: false, code: 421, message: 'Service not available' };
      if (to === 'bounce@example.com') return { accept: false, code: 550, message: 'No such mailbox' };
      return { accept: true };
    });

    await queue([email('flaky@example.com'), email('down@example.com'), email('bounce@example.com')]);

    await eventually(
      'the three outcomes',
      async () => {
        const [flaky, down, bounce] = await Promise.all(['flaky', 'down', 'bounce'].map((name) => rowsTo(`${name}@example.com`)));
        return flaky[0]?.status === 'sent' && down[0]?.status === 'failed' && bounce[0]?.status === 'failed';
      },
      30_000,
    );
    expect((await rowsTo('flaky@example.com'))[0]).toMatchObject({ attempts: 3, last_error: null });
    const [down] = await rowsTo('down@example.com');
    expect(down).toMatchObject({ attempts: 3, last_error: expect.stringContaining('421') });
    const [bounce] = await rowsTo('bounce@example.com');
    expect(bounce).toMatchObject({ attempts: 1, last_error: expect.stringContaining('550') });
    expect(smtp.attempts.filter((attempt) => attempt.to === 'bounce@example.com')).toHaveLength(1);

    const letters = await eventually('the dead-lettered job', async () => {
      const dead = await app.get(JobQueue).deadLetters<{ deliveryId: string }>(EMAIL_DELIVERY_QUEUE);
      return dead.some((letter) => letter.data.deliveryId === down.id) && dead;
    });
    // Only the exhausted one: the bounce was final without retries.
    expect(letters.map((letter) => letter.data.deliveryId)).toEqual([down.id]);
  }, 60_000);

  it('gives a due pending row without a job (the operator CLI writes those) a job', async () => {
    await app.dataSource.query(
      `INSERT INTO email_deliveries (to_address, type, locale, subject, text_body, html_body, status)
       VALUES ('orphan@example.com', 'announcement', 'en', 'Announced', 'text', '<p>html</p>', 'pending')`,
    );

    await smtp.waitFor((message) => message.to.includes('orphan@example.com'));
    await eventually('the row sent', async () => (await rowsTo('orphan@example.com'))[0]?.status === 'sent');
    expect(smtp.received.filter((message) => message.to.includes('orphan@example.com'))).toHaveLength(1);
  });

  it("turns a user's due digest items into one queued email", async () => {
    const userId = randomUUID();
    await app.dataSource.query(`INSERT INTO recipients (user_id, email, display_name, email_digest) VALUES ($1, 'digest@example.com', 'Dee', true)`, [
      userId,
    ]);
    await queue([
      email('digest@example.com', { userId, digest: true, email: { subject: 'First item', text: 't', html: 'h' }, link: 'https://app.example/1' }),
      email('digest@example.com', { userId, digest: true, email: { subject: 'Second item', text: 't', html: 'h' }, link: 'https://app.example/2' }),
    ]);
    expect((await rowsTo('digest@example.com')).map((row) => row.status)).toEqual(['digest', 'digest']);

    await app.dataSource.query('UPDATE digest_schedule SET due_at = now() WHERE user_id = $1', [userId]);

    const digest = await smtp.waitFor((message) => message.to.includes('digest@example.com'));
    expect(digest.text).toContain('https://app.example/1');
    expect(digest.text).toContain('https://app.example/2');
    const rows = await eventually('the digest row sent', async () => {
      const found = await rowsTo('digest@example.com');
      return found.some((row) => row.type === 'digest' && row.status === 'sent') && found;
    });
    expect(rows.map((row) => row.status).sort()).toEqual(['digested', 'digested', 'sent']);
    expect(smtp.received.filter((message) => message.to.includes('digest@example.com'))).toHaveLength(1);
  }, 30_000);
});
