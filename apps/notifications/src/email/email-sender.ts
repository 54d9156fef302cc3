import { Logger } from '@nestjs/common';
import nodemailer, { Transporter } from 'nodemailer';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Our delivery id, as a header, so a bounce or a support ticket can be traced back. */
  deliveryId: string;
}

export type SendOutcome =
  | { status: 'sent'; messageId: string }
  | { status: 'failed'; permanent: boolean; error: string };

/** SMTP reply codes 5xx are permanent (unknown mailbox, rejected); 4xx and network errors are worth retrying. */
function outcomeOf(error: unknown): SendOutcome {
  const smtpError = error as { responseCode?: number; response?: string; code?: string; message?: string };
  const permanent = typeof smtpError.responseCode === 'number' && smtpError.responseCode >= 500 && smtpError.responseCode < 600;
  const detail = smtpError.response ?? smtpError.message ?? String(error);
  return { status: 'failed', permanent, error: [smtpError.code, detail].filter(Boolean).join(': ').slice(0, 1_000) };
}

/** Sends through SMTP (pooled connections), or writes emails to the log when no SMTP server is configured. */
export class EmailSender {
  private readonly logger = new Logger(EmailSender.name);
  private readonly transport: Transporter | null;
  private readonly from: string;

  constructor(options: { smtpUrl?: string; from: string; timeoutMs: number }) {
    this.from = options.from;
    this.transport = options.smtpUrl
      ? nodemailer.createTransport({
          url: options.smtpUrl,
          pool: true,
          maxConnections: 5,
          connectionTimeout: options.timeoutMs,
          greetingTimeout: options.timeoutMs,
          socketTimeout: options.timeoutMs,
        } as Parameters<typeof nodemailer.createTransport>[0])
      : null;
  }

  async send(email: OutgoingEmail): Promise<SendOutcome> {
    if (!this.transport) {
      this.logger.log(`Email not sent (SMTP_URL is not set) to ${email.to}: ${email.subject}\n${email.text}`);
      return { status: 'sent', messageId: `log:${email.deliveryId}` };
    }
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { 'X-Multipult-Delivery': email.deliveryId },
      });
      return { status: 'sent', messageId: String(info.messageId) };
    } catch (error) {
      return outcomeOf(error);
    }
  }

  close(): void {
    this.transport?.close();
  }
}
