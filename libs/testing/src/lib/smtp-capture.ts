import { AddressInfo } from 'node:net';
import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

export interface CapturedEmail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
  parsed: ParsedMail;
}

/** How the server answers one delivery attempt: accept it, or reply with an SMTP error code. */
export type SmtpVerdict = { accept: true } | { accept: false; code: number; message: string };

export interface SmtpCapture {
  /** smtp://127.0.0.1:<port> for SMTP_URL. */
  url: string;
  received: CapturedEmail[];
  /** Every RCPT TO attempt, accepted or not, in order. */
  attempts: { to: string; verdict: SmtpVerdict }[];
  /** Decides per recipient (and attempt number for that recipient, from 1); accepts by default. */
  setPolicy(policy: (to: string, attempt: number) => SmtpVerdict): void;
  waitFor(predicate: (email: CapturedEmail) => boolean, timeoutMs?: number): Promise<CapturedEmail>;
  stop(): Promise<void>;
}

/**
 * A real SMTP server (the `smtp-server` package) that captures what it receives, for tests of
 * email delivery: the service under test speaks SMTP to it exactly as to a production relay.
 */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const received: CapturedEmail[] = [];
  const attempts: { to: string; verdict: SmtpVerdict }[] = [];
  const attemptsByRecipient = new Map<string, number>();
  let policy: (to: string, attempt: number) => SmtpVerdict = () => ({ accept: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      const attempt = (attemptsByRecipient.get(to) ?? 0) + 1;
      attemptsByRecipient.set(to, attempt);
      const verdict = policy(to, attempt);
      attempts.push({ to, verdict });
      if (verdict.accept) return callback();
      const error = new Error(verdict.message) as Error & { responseCode: number };
      error.responseCode = verdict.code;
      callback(error);
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      simpleParser(stream)
        .then((parsed) => {
          received.push({
            to: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            headers: parsed.headers,
            parsed,
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts,
    setPolicy: (next) => {
      policy = next;
    },
    waitFor: async (predicate, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = received.find(predicate);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no matching email within ${timeoutMs} ms; received: ${received.map((email) => `${email.to} "${email.subject}"`).join(', ')}`);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
