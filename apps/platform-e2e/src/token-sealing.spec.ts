import { randomUUID } from 'node:crypto';
import { Consumer, Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { SmtpCapture, eventually, graphqlData } from '@multipult/testing';
import { PASSWORD, REGISTER, createTenantFor, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

const VERIFY = `mutation($input: EmailTokenInput!) { verifyEmail(input: $input) { user { id emailVerified } } }`;
const REQUEST_RESET = `mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }`;
const RESET = `mutation($input: ResetPasswordInput!) { resetPassword(input: $input) { passwordChanged } }`;
const INVITE = `mutation($input: InviteTenantMemberInput!) { inviteTenantMember(input: $input) { invitation { id } } }`;
const ACCEPT = `mutation($input: EmailTokenInput!) { acceptTenantInvitation(input: $input) { membership { tenant { id } } } }`;

/** The token in the link of an email's text part. */
function tokenFrom(text: string, path: string): string {
  const match = new RegExp(`https://app\\.example${path}\\?token=([A-Za-z0-9_-]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

interface SeenMessage {
  topic: string;
  /** The message as it sits in Kafka: key, value and headers. */
  raw: string;
  envelope: { type: string; payload: Record<string, unknown> };
}

describe('one-time tokens of emailed links stay out of Kafka, the outbox and the logs', () => {
  let platform: PlatformOf<'production'>;
  let smtp: SmtpCapture;
  let consumer: Consumer;
  const seen: SeenMessage[] = [];

  beforeAll(async () => {
    // Production mode with debug logs in every service: the most any operator would log.
    platform = await usePlatform('production');
    smtp = platform.smtp;
    const kafka = new Kafka({ clientId: 'token-sealing-e2e', brokers: (process.env.KAFKA_BROKERS as string).split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // Every topic the auth service writes to, dead-letter topics included, in this platform's namespace.
    const authTopics = `${platform.kafkaTopicPrefix}auth.`;
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(authTopics));
    await admin.disconnect();
    expect(topics).toEqual(expect.arrayContaining([`${authTopics}user.v1`, `${authTopics}tenant.v1`]));
    consumer = kafka.consumer({ groupId: `token-sealing-e2e-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers = Object.entries(message.headers ?? {}).map(([name, value]) => `${name}=${String(value)}`);
        const value = message.value?.toString('utf8') ?? '';
        seen.push({ topic, raw: [message.key?.toString('utf8') ?? '', value, ...headers].join('\n'), envelope: JSON.parse(value) });
      },
    });
  });

  afterAll(async () => {
    await consumer?.disconnect();
  });

  it('carries verification, reset and invitation tokens sealed, and their links still work', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'sealed');
    const verification = tokenFrom(
      (await smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Confirm your email address')).text,
      '/verify-email',
    );
    await graphqlData(platform.gatewayUrl, REQUEST_RESET, { variables: { input: { email: account.email } } });
    const reset = tokenFrom(
      (await smtp.waitFor((message) => message.to.includes(account.email) && message.subject === 'Reset your Multipult password')).text,
      '/reset-password',
    );
    const tenant = await createTenantFor(platform.gatewayUrl, account);
    const inviteeEmail = `sealed-invitee-${randomUUID()}@example.com`;
    await graphqlData(platform.gatewayUrl, INVITE, { token: tenant.accessToken, variables: { input: { email: inviteeEmail, role: 'member' } } });
    const invitation = tokenFrom((await smtp.waitFor((message) => message.to.includes(inviteeEmail))).text, '/invitations/accept');

    // The links work: each token does what it was sent for.
    const verified = await graphqlData<{ verifyEmail: { user: { id: string; emailVerified: boolean } } }>(platform.gatewayUrl, VERIFY, {
      variables: { input: { token: verification } },
      token: account.accessToken,
    });
    expect(verified.verifyEmail.user).toEqual({ id: account.userId, emailVerified: true });
    const changed = await graphqlData<{ resetPassword: { passwordChanged: boolean } }>(platform.gatewayUrl, RESET, {
      variables: { input: { token: reset, newPassword: 'a sealed new passphrase 5' } },
    });
    expect(changed.resetPassword.passwordChanged).toBe(true);
    const invitee = await graphqlData<{ register: { accessToken: string } }>(platform.gatewayUrl, REGISTER, {
      variables: { input: { email: inviteeEmail, password: PASSWORD, displayName: 'Sealed invitee' } },
    });
    const accepted = await graphqlData<{ acceptTenantInvitation: { membership: { tenant: { id: string } } } }>(platform.gatewayUrl, ACCEPT, {
      token: invitee.register.accessToken,
      variables: { input: { token: invitation } },
    });
    expect(accepted.acceptTenantInvitation.membership.tenant.id).toBe(tenant.tenantId);

    // Kafka: the three events arrived (a positive control for the search below), each with a seal and no token.
    const ours = await eventually('the three token events in Kafka', () => {
      const found = [
        seen.find((m) => m.envelope.type === 'user.verification_requested' && m.envelope.payload.userId === account.userId),
        seen.find((m) => m.envelope.type === 'user.password_reset_requested' && m.envelope.payload.userId === account.userId),
        seen.find((m) => m.envelope.type === 'tenant.invitation_created' && m.envelope.payload.email === inviteeEmail),
      ];
      return found.every(Boolean) ? (found as SeenMessage[]) : undefined;
    });
    for (const message of ours) {
      expect(message.envelope.payload).toEqual(expect.objectContaining({ sealedToken: expect.any(String) }));
      expect(message.envelope.payload).not.toHaveProperty('token');
    }
    const tokens = [verification, reset, invitation];
    for (const token of tokens) {
      expect(seen.filter((message) => message.raw.includes(token)).map((message) => message.topic)).toEqual([]);
    }

    // The outbox rows the events were written from.
    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ row: string; event_type: string }>(
        `SELECT o::text AS row, event_type FROM auth.outbox o WHERE event_type = ANY($1)`,
        [['user.verification_requested', 'user.password_reset_requested', 'tenant.invitation_created']],
      );
      // The invitee's sign-up asked for a verification too.
      expect(rows.filter((row) => row.row.includes(account.userId) || row.row.includes(inviteeEmail)).map((row) => row.event_type)).toEqual(
        expect.arrayContaining(['tenant.invitation_created', 'user.password_reset_requested', 'user.verification_requested']),
      );
      for (const token of tokens) expect(rows.filter((row) => row.row.includes(token))).toEqual([]);
    } finally {
      await db.end();
    }

    // Every service's log.
    for (const service of [platform.auth, platform.content, platform.notifications, platform.gateway]) {
      const output = service.output();
      expect(output.length).toBeGreaterThan(0);
      for (const token of tokens) expect(output.includes(token)).toBe(false);
    }
  });
});
