import { Client } from 'pg';
import WebSocket from 'ws';
import { Platform, RealtimeClient, ServiceProcess, connectRealtime, eventually, graphqlData } from '@multipult/testing';
import { Account, createTenantFor, registerAccount } from './support/accounts';
import { inbox } from './support/notifications';
import { usePlatform } from './support/platforms';
import { dropPubSubSubscribers } from './support/pub-sub';

interface Added {
  notificationAdded: { sequence: number; type: string; title: string };
}

const NOTIFICATION_ADDED = 'subscription($after: Int) { notificationAdded(afterSequence: $after) { sequence type title } }';
const ANNOUNCE = `mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { announcement { id } } }`;

describe('realtime over /graphql/ws', () => {
  let platform: Platform;
  let owner: Account & { token: string; tenantId: string };
  let member: Account & { token: string };
  const clients: RealtimeClient[] = [];

  const connect = (url: string, params: Record<string, unknown>, headers?: Record<string, string>) => {
    const client = connectRealtime(url, params, { headers });
    clients.push(client);
    return client;
  };
  const announce = (title: string) =>
    graphqlData(platform.gatewayUrl, ANNOUNCE, { token: owner.token, variables: { input: { title, body: `${title} body` } } });
  const sequences = (values: Added[]) => values.map((value) => value.notificationAdded.sequence);
  /**
   * Resolves once the socket's earlier subscriptions are live: the server takes a socket's
   * subscriptions in order, and the unread count answers its first value only after a query.
   */
  const subscriptionsLive = async (client: RealtimeClient) => {
    await client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }').waitForCount(1);
  };
  /** A notification committed without its pub/sub message, as if Redis had dropped it. */
  const commitWithoutMessage = async (userId: string, title: string) => {
    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    try {
      await db.query(
        `WITH next AS (
           INSERT INTO notifications.streams (user_id, last_sequence) VALUES ($1, 1)
           ON CONFLICT (user_id) DO UPDATE SET last_sequence = notifications.streams.last_sequence + 1 RETURNING last_sequence)
         INSERT INTO notifications.notifications (recipient_id, sequence, type, data)
         SELECT $1, last_sequence, 'announcement', jsonb_build_object('title', $2::text, 'body', 'x') FROM next`,
        [userId, title],
      );
    } finally {
      await db.end();
    }
  };
  /** Where the user's stream is now: a subscription after it cannot race with what the test does next. */
  const latestSequence = async (token: string) => (await inbox(platform.gatewayUrl, token, { first: 1 })).nodes[0]?.sequence ?? 0;

  beforeAll(async () => {
    platform = await usePlatform('default');
    const ownerAccount = await registerAccount(platform.gatewayUrl, 'owner');
    const tenant = await createTenantFor(platform.gatewayUrl, ownerAccount);
    owner = { ...ownerAccount, token: tenant.accessToken, tenantId: tenant.tenantId };
    const memberAccount = await registerAccount(platform.gatewayUrl, 'member');
    await graphqlData(platform.gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
      token: owner.token,
      variables: { input: { email: memberAccount.email, role: 'member' } },
    });
    member = { ...memberAccount, token: memberAccount.accessToken };
    // The welcome travels through Kafka too: in the inbox before the tests, it cannot arrive in the middle of one.
    await eventually('the member\'s welcome notification', async () => (await inbox(platform.gatewayUrl, member.token, { types: ['welcome'] })).totalCount || undefined);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose().catch(() => undefined)));
  });

  it('closes connection_init without a valid token with 4401 and a foreign tenant with 4403', async () => {
    expect(await connect(platform.realtimeUrl, {}).closed).toMatchObject({ code: 4401 });
    expect(await connect(platform.realtimeUrl, { authorization: 'Bearer not.a.token' }).closed).toMatchObject({ code: 4401 });
    const stranger = await registerAccount(platform.gatewayUrl, 'stranger');
    const foreign = connect(platform.realtimeUrl, { authorization: `Bearer ${stranger.accessToken}`, tenantId: owner.tenantId });
    expect(await foreign.closed).toMatchObject({ code: 4403 });
  });

  it('delivers a notification caused by a mutation, through Kafka and the gateway, with the unread count', async () => {
    const client = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}`, locale: 'ru' });
    const added = client.subscribe<Added>(NOTIFICATION_ADDED, { after: await latestSequence(member.token) });
    const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
    const [initial] = await unread.waitForCount(1);

    await announce('Deploy at noon');
    const [notification] = await added.waitForCount(1);
    expect(notification.notificationAdded).toMatchObject({ type: 'announcement', title: 'Deploy at noon' });
    await unread.waitForCount(2);
    expect(unread.values[1].unreadCountChanged).toBe(initial.unreadCountChanged + 1);

    await graphqlData(platform.gatewayUrl, 'mutation { markAllNotificationsRead { unreadCount } }', { token: member.token });
    await unread.waitForCount(3);
    expect(unread.values[2]).toEqual({ unreadCountChanged: 0 });
    expect(added.errors).toEqual([]);
  });

  it('replays what a client missed after its acknowledged position, in order, and never twice on one socket', async () => {
    const first = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}`, clientId: 'phone-1' });
    const live = first.subscribe<Added>(NOTIFICATION_ADDED, { after: await latestSequence(member.token) });
    await announce('Before the ack');
    const [seen] = await live.waitForCount(1);
    const acked = await first.execute<{ acknowledgeNotifications: { acknowledgedSequence: number } }>(
      'mutation($input: AcknowledgeNotificationsInput!) { acknowledgeNotifications(input: $input) { acknowledgedSequence } }',
      { input: { clientId: 'phone-1', sequence: seen.notificationAdded.sequence } },
    );
    expect(acked.data?.acknowledgeNotifications.acknowledgedSequence).toBe(seen.notificationAdded.sequence);
    await first.dispose();

    for (const title of ['Missed one', 'Missed two', 'Missed three']) await announce(title);

    const second = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}`, clientId: 'phone-1' });
    const resumed = second.subscribe<Added>(NOTIFICATION_ADDED);
    await resumed.waitForCount(3);
    expect(resumed.values.map((value) => value.notificationAdded.title)).toEqual(['Missed one', 'Missed two', 'Missed three']);
    expect(sequences(resumed.values)).toEqual([1, 2, 3].map((step) => seen.notificationAdded.sequence + step));

    // Asking again from 0 on the same socket sends nothing already sent; a new event arrives once.
    const again = second.subscribe<Added>(NOTIFICATION_ADDED, { after: 0 });
    await announce('After the replay');
    await resumed.waitForCount(4);
    expect(resumed.values[3].notificationAdded.title).toBe('After the replay');
    // A later notification on the same socket: anything replayed twice would have come before it.
    await announce('Marker');
    const isMarker = (value: Added) => value.notificationAdded.title === 'Marker';
    await eventually('the marker on the socket', () => [...resumed.values, ...again.values].some(isMarker));
    const onSocket = [...sequences(resumed.values), ...sequences(again.values)];
    expect(new Set(onSocket).size).toBe(onSocket.length);

    // A fresh socket asking from 0 gets the whole stream, in order.
    const fresh = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}` });
    const everything = fresh.subscribe<Added>(NOTIFICATION_ADDED, { after: 0 });
    const last = Math.max(...onSocket);
    await everything.waitForCount(last);
    expect(sequences(everything.values)).toEqual(Array.from({ length: last }, (_, index) => index + 1));
  });

  it('recovers a live message lost on the way from Postgres, when the next one reveals the gap', async () => {
    const client = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}` });
    const live = client.subscribe<Added>(NOTIFICATION_ADDED, { after: await latestSequence(member.token) });
    await announce('Seen live');
    const [before] = await live.waitForCount(1);
    await commitWithoutMessage(member.userId, 'Lost on the bus');
    // Nothing announces the lost one; the next live message shows the gap, and the stream fills it.
    await announce('Reveals the gap');
    await live.waitForCount(3);
    expect(live.values.map((value) => value.notificationAdded.title)).toEqual(['Seen live', 'Lost on the bus', 'Reveals the gap']);
    expect(sequences(live.values)).toEqual([0, 1, 2].map((step) => before.notificationAdded.sequence + step));
  });

  it("re-reads from Postgres what was committed while the service's connection to Redis was down, with no later message", async () => {
    const client = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}` });
    const live = client.subscribe<Added>(NOTIFICATION_ADDED, { after: await latestSequence(member.token) });
    const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
    const [{ unreadCountChanged: unreadAtStart }] = await unread.waitForCount(1);
    await announce('Before the break');
    const [before] = await live.waitForCount(1);
    const lastUnread = () => unread.values.at(-1)?.unreadCountChanged;
    await eventually('the unread count after the announcement', () => lastUnread() === unreadAtStart + 1);
    await commitWithoutMessage(member.userId, 'Committed during the break');
    // The platform's pub/sub subscriber connections drop, as they do when Redis restarts.
    expect(await dropPubSubSubscribers(platform.redisKeyPrefix)).toBeGreaterThan(0);
    await live.waitForCount(2);
    expect(live.values.map((value) => value.notificationAdded.title)).toEqual(['Before the break', 'Committed during the break']);
    expect(sequences(live.values)).toEqual([before.notificationAdded.sequence, before.notificationAdded.sequence + 1]);
    await eventually('the unread count re-read', () => lastUnread() === unreadAtStart + 2);
  });

  it("closes a revoked session's sockets within a second", async () => {
    const session = await registerAccount(platform.gatewayUrl, 'leaving');
    const client = connect(platform.realtimeUrl, { authorization: `Bearer ${session.accessToken}` });
    const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
    await unread.waitForCount(1);
    const loggedOutAt = Date.now();
    await graphqlData(platform.gatewayUrl, 'mutation { logout { sessionRevoked } }', { token: session.accessToken });
    const closed = await client.closed;
    expect(closed).toEqual({ code: 4403, reason: 'Session revoked' });
    expect(Date.now() - loggedOutAt).toBeLessThan(1_000);
  });

  it('delivers an event produced on one instance to a client connected to another, through Redis', async () => {
    const second: ServiceProcess = await platform.startNotificationsInstance();
    // The platform is shared: the extra instance must not outlive the test.
    try {
      const client = connect(`${second.url.replace(/^http/, 'ws')}/graphql/ws`, { authorization: `Bearer ${owner.token}` });
      const added = client.subscribe<Added>(NOTIFICATION_ADDED, { after: await latestSequence(owner.token) });
      const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
      await unread.waitForCount(1);
      // Published through the gateway, i.e. on the first instance.
      await announce('Across instances');
      const [received] = await added.waitForCount(1);
      expect(received.notificationAdded.title).toBe('Across instances');
    } finally {
      await second.stop();
    }
  });

  it('shows users sharing a tenant coming online and going offline with a last-seen time', async () => {
    const watcher = connect(platform.realtimeUrl, { authorization: `Bearer ${owner.token}` });
    const changes = watcher.subscribe<{ presenceChanged: { user: { id: string }; online: boolean; lastSeenAt: string | null } }>(
      'subscription { presenceChanged { user { id } online lastSeenAt } }',
    );
    await subscriptionsLive(watcher);
    const memberSocket = connect(platform.realtimeUrl, { authorization: `Bearer ${member.token}` });
    memberSocket.subscribe('subscription { unreadCountChanged }');
    await changes.waitForCount(1);
    expect(changes.values[0].presenceChanged).toEqual({ user: { id: member.userId }, online: true, lastSeenAt: null });

    const stranger = await registerAccount(platform.gatewayUrl, 'unrelated');
    const query = `query($ids: [ID!]!) { presence(userIds: $ids) { user { id } online lastSeenAt } }`;
    const online = await graphqlData<{ presence: { user: { id: string }; online: boolean }[] }>(platform.gatewayUrl, query, {
      token: owner.token,
      variables: { ids: [member.userId, stranger.userId] },
    });
    expect(online.presence).toEqual([{ user: { id: member.userId }, online: true, lastSeenAt: null }]);

    await memberSocket.dispose();
    await changes.waitForCount(2);
    const offline = changes.values[1].presenceChanged;
    expect(offline).toMatchObject({ user: { id: member.userId }, online: false });
    expect(Date.now() - new Date(offline.lastSeenAt ?? 0).getTime()).toBeLessThan(5_000);
    const after = await graphqlData<{ presence: { online: boolean; lastSeenAt: string }[] }>(platform.gatewayUrl, query, {
      token: owner.token,
      variables: { ids: [member.userId] },
    });
    expect(after.presence[0]).toEqual({ user: { id: member.userId }, online: false, lastSeenAt: offline.lastSeenAt });
  });

  it("sends typing indicators to the tenant's users watching the document's thread, and to no one else", async () => {
    const documentId = '7b0c1f8e-2d7a-4c5e-9a51-3f1d2b6c8e90';
    const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
      platform.gatewayUrl,
      `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
      { token: member.token, variables: { input: { tenantId: owner.tenantId } } },
    );
    const outsider = await registerAccount(platform.gatewayUrl, 'outsider');
    const outsiderTenant = await createTenantFor(platform.gatewayUrl, outsider);
    const watcher = connect(platform.realtimeUrl, { authorization: `Bearer ${owner.token}` });
    const typing = watcher.subscribe<{ typingChanged: { documentId: string; user: { id: string }; typing: boolean; expiresAt: string } }>(
      'subscription($id: ID!) { typingChanged(documentId: $id) { documentId user { id } typing expiresAt } }',
      { id: documentId },
    );
    await subscriptionsLive(watcher);
    const setTyping = `mutation($input: SetTypingInput!) { setTyping(input: $input) { expiresAt } }`;
    await graphqlData(platform.gatewayUrl, setTyping, { token: outsiderTenant.accessToken, variables: { input: { documentId, typing: true } } });
    await graphqlData(platform.gatewayUrl, setTyping, { token: owner.token, variables: { input: { documentId, typing: true } } });
    const sent = await graphqlData<{ setTyping: { expiresAt: string } }>(platform.gatewayUrl, setTyping, {
      token: switched.switchTenant.accessToken,
      variables: { input: { documentId, typing: true } },
    });
    // The member stopping is the marker: the outsider's and the owner's indicators, sent before, would have come first.
    await graphqlData(platform.gatewayUrl, setTyping, { token: switched.switchTenant.accessToken, variables: { input: { documentId, typing: false } } });
    await typing.waitForCount(2);
    expect(typing.values[0]).toEqual({
      typingChanged: { documentId, user: { id: member.userId }, typing: true, expiresAt: sent.setTyping.expiresAt },
    });
    expect(typing.values[1].typingChanged).toMatchObject({ documentId, user: { id: member.userId }, typing: false });
    expect(typing.values).toHaveLength(2);
  });

  describe('protection', () => {
    let guarded: ServiceProcess;
    let url: string;

    beforeAll(async () => {
      guarded = await platform.startNotificationsInstance({
        REALTIME_MAX_CONNECTIONS_PER_IP: '2',
        REALTIME_MAX_MESSAGES_PER_SECOND: '5',
        REALTIME_MAX_MESSAGE_BYTES: '2048',
        REALTIME_HEARTBEAT_MS: '300',
        REALTIME_INIT_TIMEOUT_MS: '500',
      });
      url = `${guarded.url.replace(/^http/, 'ws')}/graphql/ws`;
    });

    const rawSocket = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(url, 'graphql-transport-ws');
        socket.once('open', () => resolve(socket));
        socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
        socket.once('error', reject);
      });
    const closeOf = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    it('limits connections per client IP', async () => {
      const open = [await rawSocket(), await rawSocket()];
      await expect(rawSocket()).rejects.toThrow('HTTP 429');
      open.forEach((socket) => socket.close());
      await Promise.all(open.map(closeOf));
      const again = await rawSocket();
      again.close();
    });

    it('closes sockets that never initialise, flood, send oversized messages or stop answering pings', async () => {
      const silent = await rawSocket();
      expect(await closeOf(silent)).toBe(4408);

      const flooding = await rawSocket();
      const flooded = closeOf(flooding);
      for (let i = 0; i < 20; i += 1) flooding.send(JSON.stringify({ type: 'ping' }));
      expect(await flooded).toBe(1008);

      const oversized = await rawSocket();
      const tooBig = closeOf(oversized);
      oversized.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(4096) } }));
      expect(await tooBig).toBe(1009);

      const dead = await rawSocket();
      const acknowledged = new Promise((resolve) => dead.once('message', resolve));
      dead.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${member.token}` } }));
      expect(JSON.parse(String(await acknowledged))).toMatchObject({ type: 'connection_ack' });
      const dropped = closeOf(dead);
      // A peer that stops reading never answers the server's pings; two heartbeats later it is cut off.
      const transport = (dead as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      transport.pause();
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      transport.resume();
      expect(await dropped).toBe(1006);
    });

    it('drains on shutdown: open sockets are told to go away (1001) and reconnect elsewhere', async () => {
      const client = connect(url, { authorization: `Bearer ${member.token}` });
      const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
      await unread.waitForCount(1);
      await guarded.stop();
      expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down; reconnect' });
    });
  });
});
