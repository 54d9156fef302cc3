import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { sealEmailedToken } from '@multipult/auth';
import { EventContract, TenantInvitationCreated, UserMentioned, UserPasswordResetRequested, buildEnvelope, envelopeHeaders } from '@multipult/events';
import { SmtpCapture, eventually, graphql, graphqlData, workspaceRoot } from '@multipult/testing';
import { Account, createTenantFor, registerAccount } from './support/accounts';
import { inbox } from './support/notifications';
import { DEFAULT_EMAIL_TOKEN_SEAL_KEY as EMAIL_TOKEN_SEAL_KEY, PlatformOf, usePlatform } from './support/platforms';

const ADD_COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`;
const MARK_READ = `mutation($input: NotificationIdsInput!) { markNotificationsRead(input: $input) { unreadCount notifications { id read } } }`;

describe('notifications through the gateway', () => {
  let platform: PlatformOf<'default'>;
  let smtp: SmtpCapture;
  let db: Client;
  let owner: Account & { token: string; tenantId: string };
  let member: Account & { token: string; username: string };
  let documentId: string;

  const as = <T>(token: string, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) =>
    graphqlData<T>(platform.gatewayUrl, query, { token, variables, headers });

  const emailsTo = async (address: string, type?: string) =>
    (
      await db.query<{ status: string; attempts: number; last_error: string | null; type: string; subject: string }>(
        `SELECT status, attempts, last_error, type, subject FROM notifications.email_deliveries
         WHERE to_address = $1 AND ($2::text IS NULL OR type = $2) ORDER BY created_at`,
        [address, type ?? null],
      )
    ).rows;

  const mention = async (body: string) =>
    (await as<{ addComment: { comment: { id: string } } }>(owner.token, ADD_COMMENT, { input: { documentId, body } })).addComment.comment.id;

  beforeAll(async () => {
    platform = await usePlatform('default');
    smtp = platform.smtp;
    db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    const ownerAccount = await registerAccount(platform.gatewayUrl, 'editor');
    const tenant = await createTenantFor(platform.gatewayUrl, ownerAccount);
    owner = { ...ownerAccount, token: tenant.accessToken, tenantId: tenant.tenantId };
    const memberAccount = await registerAccount(platform.gatewayUrl, 'reader', { 'accept-language': 'ru-RU,ru;q=0.9' });
    await as(owner.token, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
      input: { email: memberAccount.email, role: 'member' },
    });
    const switched = await as<{ switchTenant: { accessToken: string } }>(
      memberAccount.accessToken,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { input: { tenantId: owner.tenantId } },
    );
    const { me } = await as<{ me: { username: string } }>(memberAccount.accessToken, '{ me { username } }');
    member = { ...memberAccount, token: switched.switchTenant.accessToken, username: me.username };
    const created = await as<{ createDocument: { document: { id: string } } }>(
      owner.token,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { input: { title: 'Field notes', body: 'Foxes at dusk.', type: 'ARTICLE', language: 'en' } },
    );
    documentId = created.createDocument.document.id;
    await as(owner.token, `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { status } } }`, {
      input: { id: documentId },
    });
  });

  afterAll(async () => {
    await db?.end();
  });

  it('welcomes a new user in-app and by email, in the language they signed up in', async () => {
    const email = await smtp.waitFor((message) => message.to.includes(member.email) && message.subject === 'Добро пожаловать в Multipult');
    expect(email.from).toBe('no-reply@multipult.local');
    expect(email.text).toContain('Здравствуйте, reader!');
    expect(email.text).toContain('Начать: https://app.example/');
    expect(email.html).toContain('<a href="https://app.example/"');
    expect(email.headers.get('x-multipult-delivery')).toMatch(/^[0-9a-f-]{36}$/);

    const english = await eventually('the welcome in-app', async () => {
      const { nodes } = await inbox(platform.gatewayUrl, member.token);
      return nodes.find((node) => node.type === 'welcome');
    });
    expect(english).toMatchObject({ title: 'Welcome to Multipult, reader', read: false, link: 'https://app.example/', sequence: 1 });
    const russian = await inbox(platform.gatewayUrl, member.token, {}, { 'accept-language': 'ru' });
    expect(russian.nodes.find((node) => node.type === 'welcome')?.title).toBe('Добро пожаловать в Multipult, reader');
  });

  it('notifies a mentioned user and the author of a replied comment, in-app and by email, through Kafka', async () => {
    const commentId = await mention(`What do you think, @${member.username}?`);
    const mentioned = await eventually('the mention in-app', async () => {
      const { nodes } = await inbox(platform.gatewayUrl, member.token, { types: ['mention'] });
      return nodes[0];
    });
    expect(mentioned).toMatchObject({
      title: 'editor mentioned you',
      body: 'editor mentioned you in a comment.',
      link: `https://app.example/documents/${documentId}?comment=${commentId}`,
      actor: { id: owner.userId },
    });
    const email = await smtp.waitFor((message) => message.to.includes(member.email) && message.subject.includes('упомянул'));
    expect(email.subject).toBe('editor упомянул(а) вас в комментарии');
    expect(email.text).toContain(`https://app.example/documents/${documentId}?comment=${commentId}`);

    await as(member.token, ADD_COMMENT, { input: { documentId, parentId: commentId, body: 'Looks good to me' } });
    const reply = await eventually('the reply notification', async () => {
      const { nodes } = await inbox(platform.gatewayUrl, owner.token, { types: ['comment_reply'] });
      return nodes[0];
    });
    expect(reply).toMatchObject({ title: 'reader replied to your comment', actor: { id: member.userId } });
  });

  it('handles a burst of mentions together: each in-app once in stream order, one email each, and a webhook per notification carrying its id', async () => {
    const [{ id: endpointId }] = (
      await db.query<{ id: string }>(
        `INSERT INTO notifications.webhook_endpoints (tenant_id, url, event_types, sealed_secret, enabled)
         VALUES ($1, 'https://hooks.example/burst', ARRAY['notification.created'], 'unused', true) RETURNING id`,
        [owner.tenantId],
      )
    ).rows;
    const producer = new Kafka({ brokers: (process.env.KAFKA_BROKERS as string).split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      const before = await inbox(platform.gatewayUrl, member.token, { types: ['mention'] });
      const mentions = [
        ...Array.from({ length: 5 }, () => ({ mentionedUserId: member.userId, mentionedBy: owner.userId })),
        { mentionedUserId: owner.userId, mentionedBy: member.userId },
      ].map((people) => buildEnvelope(UserMentioned, { aggregateId: documentId, tenantId: owner.tenantId, actorId: people.mentionedBy, payload: { ...people, commentId: randomUUID(), documentId } }));
      // One send of one partition's messages: the consumer fetches them together.
      await producer.send({
        topic: `${platform.kafkaTopicPrefix}${UserMentioned.topic}`,
        messages: mentions.map((envelope) => ({ key: documentId, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) })),
      });
      const commentIdOf = (link: string) => new URL(link).searchParams.get('comment');
      const added = await eventually('the five mentions in-app', async () => {
        const { nodes } = await inbox(platform.gatewayUrl, member.token, { types: ['mention'] });
        const fresh = nodes.filter((node) => !before.nodes.some((old) => old.id === node.id));
        return fresh.length >= 5 && fresh;
      });
      expect(added).toHaveLength(5);
      // Newest first: stream order is publishing order, with no gap.
      expect(added.map((node) => commentIdOf(node.link as string))).toEqual(mentions.slice(0, 5).map((envelope) => envelope.payload.commentId).reverse());
      const sequences = added.map((node) => node.sequence).reverse();
      expect(sequences).toEqual(sequences.map((_, index) => sequences[0] + index));
      const ownerMention = await eventually('the owner mentioned', async () => {
        const { nodes } = await inbox(platform.gatewayUrl, owner.token, { types: ['mention'] });
        return nodes.find((node) => commentIdOf(node.link as string) === mentions[5].payload.commentId);
      });

      const sourceIds = mentions.map((envelope) => envelope.id);
      const rows = await eventually('the emails and webhook deliveries written', async () => {
        const emails = (
          await db.query<{ source_event_id: string; to_address: string }>(
            'SELECT source_event_id, to_address FROM notifications.email_deliveries WHERE source_event_id = ANY($1::uuid[])',
            [sourceIds],
          )
        ).rows;
        const deliveries = (
          await db.query<{ event_id: string; body: string }>('SELECT event_id, body FROM notifications.webhook_deliveries WHERE endpoint_id = $1', [endpointId])
        ).rows;
        return emails.length === 6 && deliveries.length === 6 && { emails, deliveries };
      });
      expect(rows.emails.filter((email) => email.to_address === member.email)).toHaveLength(5);
      const notificationIds = [...added.map((node) => node.id), ownerMention.id].sort();
      expect(rows.deliveries.map((delivery) => delivery.event_id).sort()).toEqual(notificationIds);
      for (const delivery of rows.deliveries) {
        expect(JSON.parse(delivery.body)).toMatchObject({ id: delivery.event_id, type: 'notification.created', tenantId: owner.tenantId, data: { notificationType: 'mention' } });
      }
      // Handled in one transaction (or a few, as the fetch split them), not one each.
      const { rows: transactions } = await db.query<{ count: number }>(
        'SELECT count(DISTINCT created_at)::int AS count FROM notifications.notifications WHERE source_event_id = ANY($1::uuid[])',
        [sourceIds],
      );
      expect(transactions[0].count).toBeLessThan(mentions.length);
    } finally {
      await producer.disconnect();
      await db.query('DELETE FROM notifications.webhook_endpoints WHERE id = $1', [endpointId]);
    }
  });

  it("reads, unreads, archives and deletes only the caller's own notifications, keeping the unread count", async () => {
    const mine = await inbox(platform.gatewayUrl, owner.token);
    const theirs = await inbox(platform.gatewayUrl, member.token);
    const [newest, oldest] = [mine.nodes[0], mine.nodes[mine.nodes.length - 1]];
    expect(mine.totalCount).toBeGreaterThanOrEqual(2);

    const marked = await as<{ markNotificationsRead: { unreadCount: number; notifications: { id: string; read: boolean }[] } }>(
      owner.token,
      MARK_READ,
      { input: { ids: [newest.id, theirs.nodes[0].id] } },
    );
    expect(marked.markNotificationsRead.notifications).toEqual([{ id: newest.id, read: true }]);
    expect(marked.markNotificationsRead.unreadCount).toBe(mine.totalCount - 1);
    expect((await inbox(platform.gatewayUrl, member.token)).nodes[0].read).toBe(false);
    expect((await inbox(platform.gatewayUrl, owner.token, { unreadOnly: true })).nodes.map((n) => n.id)).not.toContain(newest.id);

    const unread = await as<{ markNotificationsUnread: { unreadCount: number } }>(
      owner.token,
      `mutation($input: NotificationIdsInput!) { markNotificationsUnread(input: $input) { unreadCount } }`,
      { input: { ids: [newest.id] } },
    );
    expect(unread.markNotificationsUnread.unreadCount).toBe(mine.totalCount);

    const firstPage = await inbox(platform.gatewayUrl, owner.token, { first: 1 });
    expect(firstPage).toMatchObject({ hasNextPage: true, nodes: [{ id: newest.id }] });
    const secondPage = await inbox(platform.gatewayUrl, owner.token, { first: 1, after: firstPage.endCursor });
    expect(secondPage.nodes[0].sequence).toBeLessThan(newest.sequence);

    const archived = await as<{ archiveNotifications: { unreadCount: number } }>(
      owner.token,
      `mutation($input: NotificationIdsInput!) { archiveNotifications(input: $input) { unreadCount } }`,
      { input: { ids: [oldest.id] } },
    );
    expect(archived.archiveNotifications.unreadCount).toBe(mine.totalCount - 1);
    expect((await inbox(platform.gatewayUrl, owner.token)).nodes.map((n) => n.id)).not.toContain(oldest.id);
    expect((await inbox(platform.gatewayUrl, owner.token, { archived: true })).nodes.map((n) => n.id)).toEqual([oldest.id]);

    const all = await as<{ markAllNotificationsRead: { markedCount: number; unreadCount: number } }>(
      owner.token,
      'mutation { markAllNotificationsRead { markedCount unreadCount } }',
    );
    expect(all.markAllNotificationsRead).toEqual({ markedCount: mine.totalCount - 1, unreadCount: 0 });
    expect(await as<{ unreadNotificationCount: number }>(owner.token, '{ unreadNotificationCount }')).toEqual({ unreadNotificationCount: 0 });

    const deleted = await as<{ deleteNotifications: { deletedIds: string[] } }>(
      owner.token,
      `mutation($input: NotificationIdsInput!) { deleteNotifications(input: $input) { deletedIds unreadCount } }`,
      { input: { ids: [oldest.id, theirs.nodes[0].id] } },
    );
    expect(deleted.deleteNotifications.deletedIds).toEqual([oldest.id]);
    expect((await inbox(platform.gatewayUrl, member.token)).totalCount).toBe(theirs.totalCount);
  });

  it('answers bad input with typed errors and changes nothing', async () => {
    const before = await inbox(platform.gatewayUrl, owner.token);
    const cases: [string, Record<string, unknown>, string][] = [
      [MARK_READ, { input: { ids: [] } }, 'ids'],
      [MARK_READ, { input: { ids: ['not-a-uuid'] } }, 'ids'],
      [MARK_READ, { input: { ids: Array.from({ length: 101 }, () => before.nodes[0].id) } }, 'ids'],
      ['query($after: String) { notifications(after: $after) { totalCount } }', { after: 'garbage' }, 'after'],
      ['query { notifications(first: 500) { totalCount } }', {}, 'first'],
      [
        'mutation($input: AcknowledgeNotificationsInput!) { acknowledgeNotifications(input: $input) { acknowledgedSequence } }',
        { input: { clientId: 'bad id with spaces', sequence: 1 } },
        'clientId',
      ],
    ];
    for (const [query, variables, field] of cases) {
      const result = await graphql(platform.gatewayUrl, query, { token: owner.token, variables });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(JSON.stringify(result.errors?.[0]?.extensions?.fields)).toContain(field);
      expect(result.text).not.toMatch(/stack|node_modules|at .*\.js/);
    }
    const anonymous = await graphql(platform.gatewayUrl, '{ unreadNotificationCount }');
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await inbox(platform.gatewayUrl, owner.token)).nodes).toEqual(before.nodes);
  });

  it('sends each type only on the channels the user keeps on; critical types cannot be turned off', async () => {
    const setPreference = (input: Record<string, unknown>, token = member.token) =>
      graphql<{ setNotificationPreference: { settings: { preferences: { type: string; channel: string; enabled: boolean }[] } } }>(
        platform.gatewayUrl,
        `mutation($input: SetNotificationPreferenceInput!) {
          setNotificationPreference(input: $input) { settings { preferences { type channel enabled critical } } }
        }`,
        { token, variables: { input } },
      );
    const off = await setPreference({ type: 'mention', channel: 'EMAIL', enabled: false });
    expect(off.data?.setNotificationPreference.settings.preferences).toEqual(
      expect.arrayContaining([
        { type: 'mention', channel: 'EMAIL', enabled: false, critical: false },
        { type: 'mention', channel: 'IN_APP', enabled: true, critical: false },
        { type: 'security_alert', channel: 'EMAIL', enabled: true, critical: true },
      ]),
    );
    const emailsBefore = (await emailsTo(member.email, 'mention')).length;
    const before = (await inbox(platform.gatewayUrl, member.token, { types: ['mention'] })).totalCount;
    await mention(`Again, @${member.username}`);
    await eventually('the second mention in-app', async () => (await inbox(platform.gatewayUrl, member.token, { types: ['mention'] })).totalCount === before + 1);
    expect((await emailsTo(member.email, 'mention')).length).toBe(emailsBefore);

    const critical = await setPreference({ type: 'security_alert', channel: 'EMAIL', enabled: false });
    expect(critical.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'enabled' })] });
    const unknown = await setPreference({ type: 'no_such_type', channel: 'EMAIL', enabled: false });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'type' })] });
    const notOffered = await setPreference({ type: 'password_reset', channel: 'IN_APP', enabled: true });
    expect(notOffered.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'channel' })] });
    await setPreference({ type: 'mention', channel: 'EMAIL', enabled: true });
  });

  it('retries transient SMTP failures with backoff and records permanent rejections as failed', async () => {
    // Each new account gets two emails at once (welcome, address confirmation): the first four
    // attempts for the address are both emails' first two.
    // The SMTP server is the shared platform's: the policy touches only this test's addresses and is reset after it.
    smtp.setPolicy((to, attempt) => {
      if (to.startsWith('flaky-') && attempt <= 4) return { accept: false, code: 451, message: 'Try again later' };
      if (to.startsWith('bounce-')) return { accept: false, code: 550, message: 'No such mailbox' };
      return { accept: true };
    });
    try {
      const flaky = await registerAccount(platform.gatewayUrl, 'flaky');
      const bounce = await registerAccount(platform.gatewayUrl, 'bounce');
      const delivered = await eventually('both flaky deliveries recorded', async () => {
        const rows = await emailsTo(flaky.email);
        return rows.length === 2 && rows.every((row) => row.status === 'sent') ? rows : undefined;
      });
      expect(delivered.map((row) => [row.type, row.attempts]).sort()).toEqual([
        ['email_verification', 3],
        ['welcome', 3],
      ]);
      expect(smtp.attempts.filter((attempt) => attempt.to === flaky.email).map((attempt) => attempt.verdict.accept)).toEqual([
        false,
        false,
        false,
        false,
        true,
        true,
      ]);

      const [failed] = await eventually('the bounce recorded', async () => {
        const rows = await emailsTo(bounce.email, 'welcome');
        return rows[0]?.status === 'failed' ? rows : undefined;
      });
      expect(failed.attempts).toBe(1);
      expect(failed.last_error).toContain('550');
      expect(smtp.received.some((message) => message.to.includes(bounce.email))).toBe(false);
    } finally {
      smtp.setPolicy(() => ({ accept: true }));
    }
  });

  it('batches non-urgent email into one daily digest at the local hour the user chose', async () => {
    const updated = await graphql<{ updateNotificationSettings: { settings: Record<string, unknown> } }>(
      platform.gatewayUrl,
      `mutation($input: UpdateNotificationSettingsInput!) {
        updateNotificationSettings(input: $input) { settings { locale emailDigest digestHour timeZone } }
      }`,
      { token: member.token, variables: { input: { emailDigest: true, digestHour: 7, timeZone: 'Europe/Moscow' } } },
    );
    expect(updated.data?.updateNotificationSettings.settings).toEqual({ locale: 'ru', emailDigest: true, digestHour: 7, timeZone: 'Europe/Moscow' });
    const badZone = await graphql(
      platform.gatewayUrl,
      `mutation($input: UpdateNotificationSettingsInput!) { updateNotificationSettings(input: $input) { settings { timeZone } } }`,
      { token: member.token, variables: { input: { timeZone: 'Mars/Olympus' } } },
    );
    expect(badZone.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'timeZone' })] });

    await mention(`First for the digest, @${member.username}`);
    await mention(`Second for the digest, @${member.username}`);
    const waiting = await eventually('two digest items', async () => {
      const rows = (await emailsTo(member.email, 'mention')).filter((row) => row.status === 'digest');
      return rows.length === 2 ? rows : undefined;
    });
    expect(waiting.map((row) => row.subject)).toEqual(['editor упомянул(а) вас в комментарии', 'editor упомянул(а) вас в комментарии']);
    const { rows: schedule } = await db.query<{ hours_ahead: number; local_hour: number }>(
      `SELECT extract(epoch FROM due_at - now()) / 3600 AS hours_ahead, extract(hour FROM due_at AT TIME ZONE 'Europe/Moscow') AS local_hour
       FROM notifications.digest_schedule WHERE user_id = $1`,
      [member.userId],
    );
    expect(Number(schedule[0].local_hour)).toBe(7);
    expect(Number(schedule[0].hours_ahead)).toBeGreaterThan(0);
    expect(Number(schedule[0].hours_ahead)).toBeLessThanOrEqual(24);

    // The test's clock jump: the digest falls due now.
    await db.query('UPDATE notifications.digest_schedule SET due_at = now() WHERE user_id = $1', [member.userId]);
    const digest = await smtp.waitFor((message) => message.to.includes(member.email) && message.subject.startsWith('Сводка'));
    expect(digest.subject).toBe('Сводка Multipult: новых уведомлений — 2');
    expect(digest.text.match(/editor упомянул\(а\) вас в комментарии: https:\/\/app\.example\/documents\//g)).toHaveLength(2);
    expect((await emailsTo(member.email, 'mention')).filter((row) => row.status === 'digest')).toEqual([]);
    await as(member.token, `mutation { updateNotificationSettings(input: { emailDigest: false }) { settings { emailDigest } } }`);
  });

  it("publishes announcements to the caller's tenant only, for those allowed to", async () => {
    const outsider = await registerAccount(platform.gatewayUrl, 'outsider');
    const publish = (token: string, input: Record<string, unknown>) =>
      graphql<{ publishAnnouncement: { announcement: { recipientCount: number; tenantId: string } } }>(
        platform.gatewayUrl,
        `mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { announcement { id tenantId title recipientCount } } }`,
        { token, variables: { input } },
      );
    const refused = await publish(member.token, { title: 'Hi', body: 'From a member' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const invalid = await publish(owner.token, { title: '', body: 'x' });
    expect(invalid.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [expect.objectContaining({ field: 'title' })] });

    const published = await publish(owner.token, { title: 'Maintenance tonight', body: 'The editor is read-only 22:00–23:00 UTC.' });
    expect(published.data?.publishAnnouncement.announcement).toMatchObject({ recipientCount: 2, tenantId: owner.tenantId });
    for (const token of [owner.token, member.token]) {
      const { nodes } = await inbox(platform.gatewayUrl, token, { types: ['announcement'] });
      expect(nodes.map((node) => [node.title, node.body])).toEqual([['Maintenance tonight', 'The editor is read-only 22:00–23:00 UTC.']]);
    }
    expect((await inbox(platform.gatewayUrl, outsider.accessToken, { types: ['announcement'] })).totalCount).toBe(0);
  });

  it('announces to every user from the operator CLI', async () => {
    const cli = path.join(workspaceRoot(), 'dist/apps/notifications/apps/notifications/src/cli.js');
    const env = { PATH: process.env.PATH, DATABASE_URL: platform.databaseUrl, REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: platform.redisKeyPrefix };
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'announce', '--title', 'Platform upgrade', '--body', 'Sunday 02:00 UTC'], { env });
    const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM notifications.recipients');
    expect(JSON.parse(stdout)).toMatchObject({ announced: true, recipients: rows[0].count });
    for (const token of [owner.token, member.token]) {
      const { nodes } = await inbox(platform.gatewayUrl, token, { types: ['announcement'] });
      expect(nodes[0]).toMatchObject({ title: 'Platform upgrade', body: 'Sunday 02:00 UTC', actor: null });
    }
    const refused = await promisify(execFile)(process.execPath, [cli, 'announce', '--title', ''], { env }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: node cli.js announce') });
    // A statement timeout the socket timeout does not cover is refused before anything runs, naming both variables.
    const announcements = async () => (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM notifications.notifications WHERE type = 'announcement'`)).rows[0].count;
    const announcedBefore = await announcements();
    const misconfigured = await promisify(execFile)(process.execPath, [cli, 'announce', '--title', 'Never sent', '--body', 'Never sent'], {
      env: { ...env, DATABASE_STATEMENT_TIMEOUT_MS: '60000' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(misconfigured).toMatchObject({ code: 1, stderr: expect.stringMatching(/DATABASE_SOCKET_TIMEOUT_MS.*DATABASE_STATEMENT_TIMEOUT_MS/) });
    expect(await announcements()).toBe(announcedBefore);
  });

  it('sends the identity emails (password reset, invitation) from their events, with their links (sealed or raw token), in the right language', async () => {
    const producer = new Kafka({ brokers: (process.env.KAFKA_BROKERS as string).split(','), logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const publish = async <P>(contract: EventContract<P>, aggregateId: string, payload: P) => {
      const envelope = buildEnvelope(contract, { aggregateId, payload, tenantId: null, actorId: null });
      await producer.send({ topic: `${platform.kafkaTopicPrefix}${contract.topic}`, messages: [{ key: aggregateId, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) }] });
    };
    try {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      await publish(UserPasswordResetRequested, member.userId, {
        userId: member.userId,
        email: member.email,
        sealedToken: sealEmailedToken('reset-token-0123456789abcdef', EMAIL_TOKEN_SEAL_KEY, UserPasswordResetRequested.type),
        expiresAt,
      });
      const invitee = `invitee-${randomUUID()}@example.com`;
      await publish(TenantInvitationCreated, owner.tenantId, {
        invitationId: randomUUID(),
        tenantId: owner.tenantId,
        tenantName: 'Acme Docs',
        email: invitee,
        role: 'member',
        invitedBy: owner.userId,
        inviterName: 'editor',
        // The raw form of events written before tokens were sealed is still read.
        token: 'invite-token-0123456789abcdef',
        expiresAt,
      });
      const reset = await smtp.waitFor((message) => message.to.includes(member.email) && message.subject === 'Сброс пароля Multipult');
      expect(reset.text).toContain('Задать новый пароль: https://app.example/reset-password?token=reset-token-0123456789abcdef');
      const invitation = await smtp.waitFor((message) => message.to.includes(invitee));
      expect(invitation.subject).toBe('editor invited you to Acme Docs');
      expect(invitation.text).toContain('Accept the invitation: https://app.example/invitations/accept?token=invite-token-0123456789abcdef');
      // Email only: neither becomes an in-app notification.
      const { nodes } = await inbox(platform.gatewayUrl, member.token, { types: ['password_reset', 'tenant_invitation'] });
      expect(nodes).toEqual([]);
    } finally {
      await producer.disconnect();
    }
  });
});
