import { Client } from 'pg';
import WebSocket from 'ws';
import { Platform, RealtimeClient, connectRealtime, eventually, graphqlData, startPlatform } from '@multipult/testing';
import { Account, addTenantMember, createTenantFor, registerAccount } from './support/accounts';
import { readMetric } from './support/metrics';
import { inbox } from './support/notifications';
import { dropPubSubSubscribers } from './support/pub-sub';

interface CommentAdded {
  commentAdded: { id: string; documentId: string; markdown: string; author: { id: string } };
}
interface NotificationAdded {
  notificationAdded: { sequence: number; type: string; title: string };
}

const COMMENT_ADDED = 'subscription($id: ID!) { commentAdded(documentId: $id) { id documentId markdown author { id } } }';
const NOTIFICATION_ADDED = 'subscription($after: Int) { notificationAdded(afterSequence: $after) { sequence type title } }';
const ADD_COMMENT = 'mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }';
const ANNOUNCE = 'mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { announcement { id } } }';

/** The first error of a graphql-ws `error` message (the client hands the whole list to the sink). */
const firstError = (errors: unknown[]) => (errors[0] as { message: string; extensions: { code: string } }[])[0];

describe('the gateway routes /graphql/ws operations to the subgraph owning their root fields', () => {
  let platform: Platform;
  let owner: Account & { token: string; tenantId: string };
  let reader: Account & { token: string };
  let documentId: string;
  const clients: RealtimeClient[] = [];

  const connect = (params: Record<string, unknown>) => {
    const client = connectRealtime(platform.realtimeUrl, params);
    clients.push(client);
    return client;
  };
  const comment = (body: string) =>
    graphqlData<{ addComment: { comment: { id: string } } }>(platform.gatewayUrl, ADD_COMMENT, {
      token: owner.token,
      variables: { input: { documentId, body } },
    });
  /** Open content connections; the gauge counts sockets, not subscriptions. */
  const contentConnections = () => readMetric(platform.content.metricsUrl, 'realtime_ws_connections', {});

  beforeAll(async () => {
    // A platform of its own, not a shared one: the last test stops content to see its drain close
    // code reach the client, and the content connection gauge must count this file's sockets only.
    platform = await startPlatform({ gatewayEnv: { REALTIME_INIT_TIMEOUT_MS: '1000' } });
    const ownerAccount = await registerAccount(platform.gatewayUrl, 'owner');
    const tenant = await createTenantFor(platform.gatewayUrl, ownerAccount);
    owner = { ...ownerAccount, token: tenant.accessToken, tenantId: tenant.tenantId };
    reader = await addTenantMember(platform.gatewayUrl, { token: owner.token, tenantId: owner.tenantId }, 'reader', 'member');
    const created = await graphqlData<{ createDocument: { document: { id: string } } }>(
      platform.gatewayUrl,
      'mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }',
      { token: owner.token, variables: { input: { title: 'Live thread', body: 'Talk here', type: 'POEM', language: 'en' } } },
    );
    documentId = created.createDocument.document.id;
    await graphqlData(platform.gatewayUrl, 'mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }', {
      token: owner.token,
      variables: { input: { id: documentId } },
    });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose().catch(() => undefined)));
  });

  afterAll(() => platform?.stop());

  it('delivers subscriptions of content and notifications over one socket, one upstream connection per subgraph', async () => {
    const client = connect({ authorization: `Bearer ${reader.token}` });
    const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
    const after = (await inbox(platform.gatewayUrl, reader.token, { first: 1 })).nodes[0]?.sequence ?? 0;
    const notifications = client.subscribe<NotificationAdded>(NOTIFICATION_ADDED, { after });
    const comments = client.subscribe<CommentAdded>(COMMENT_ADDED, { id: documentId });
    const sameThread = client.subscribe<CommentAdded>(COMMENT_ADDED, { id: documentId });
    await unread.waitForCount(1);

    // Nothing tells a client that a subscription is in place, and each of the two is set up on its
    // own: comment until one arrives live on both, so the next must reach both.
    const sent: string[] = [];
    await eventually('a live comment on both subscriptions', async () => {
      sent.push((await comment(`Comment ${sent.length + 1}`)).addComment.comment.id);
      return eventually('this comment to arrive', () => comments.values.length > 0 && sameThread.values.length > 0, 2_000).catch(() => false);
    });
    const [first] = comments.values;
    expect(sent).toContain(first.commentAdded.id);
    expect(first.commentAdded).toMatchObject({ documentId, author: { id: owner.userId } });
    const last = await comment('After the first arrived');
    const received = (subscription: typeof comments) => subscription.values.some((value) => value.commentAdded.id === last.addComment.comment.id);
    await eventually('the latest comment on the first subscription', () => received(comments));
    await eventually('the latest comment on the second subscription of the same thread', () => received(sameThread));

    await graphqlData(platform.gatewayUrl, ANNOUNCE, { token: owner.token, variables: { input: { title: 'Both live', body: 'x' } } });
    // The reader's welcome notification may land after `after` was read (its registration's event is consumed asynchronously).
    const announcement = await eventually('the announcement on the notifications subscription', () =>
      notifications.values.find((value) => value.notificationAdded.type === 'announcement'),
    );
    expect(announcement.notificationAdded).toMatchObject({ type: 'announcement', title: 'Both live' });
    expect([...unread.errors, ...notifications.errors, ...comments.errors, ...sameThread.errors]).toEqual([]);

    // Two content subscriptions on one client socket share one upstream connection.
    expect(await contentConnections()).toBe(1);
    const second = connect({ authorization: `Bearer ${reader.token}` });
    const secondComments = second.subscribe<CommentAdded>(COMMENT_ADDED, { id: documentId });
    await eventually('a second content connection', async () => (await contentConnections()) === 2);
    expect(secondComments.errors).toEqual([]);
  });

  it("reads back a comment committed while content's connection to Redis was down, once, with no later comment", async () => {
    const client = connect({ authorization: `Bearer ${reader.token}` });
    const comments = client.subscribe<CommentAdded>(COMMENT_ADDED, { id: documentId });
    await eventually('a live comment', async () => {
      await comment('Before the break');
      return eventually('this comment to arrive', () => comments.values.length > 0, 2_000).catch(() => false);
    });
    // Committed without its pub/sub message, then the bus breaks as in a Redis restart.
    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    let lostId: string;
    try {
      const { rows } = await db.query(
        `INSERT INTO content.comments (tenant_id, document_id, depth, author_id, body_markdown, body_html)
         VALUES ($1, $2, 0, $3, 'Committed during the break', '<p>Committed during the break</p>') RETURNING id`,
        [owner.tenantId, documentId, owner.userId],
      );
      lostId = rows[0].id;
    } finally {
      await db.end();
    }
    expect(await dropPubSubSubscribers(platform.redisKeyPrefix)).toBeGreaterThan(0);
    await eventually('the comment read back after the gap', () => comments.values.some((value) => value.commentAdded.id === lostId));
    const ids = comments.values.map((value) => value.commentAdded.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(comments.errors).toEqual([]);
  });

  it('answers an unknown field, or fields of two services in one operation, with BAD_USER_INPUT and keeps the socket', async () => {
    const client = connect({ authorization: `Bearer ${reader.token}`, locale: 'en' });
    const unknown = client.subscribe('subscription { documentDeleted { id } }');
    await eventually('the unknown field refused', () => unknown.errors.length > 0);
    expect(firstError(unknown.errors)).toMatchObject({
      message: 'The input is invalid',
      extensions: { code: 'BAD_USER_INPUT', fields: [{ field: 'query', message: 'No service offers the subscription field documentDeleted' }] },
    });

    const mixed = client.subscribe('subscription($id: ID!) { commentAdded(documentId: $id) { id } unreadCountChanged }', { id: documentId });
    await eventually('the mixed operation refused', () => mixed.errors.length > 0);
    expect(firstError(mixed.errors)).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(JSON.stringify(firstError(mixed.errors))).toContain('content, notifications');

    const broken = client.subscribe('subscription { unreadCountChanged ');
    await eventually('the unparsable document refused', () => broken.errors.length > 0);
    expect(firstError(broken.errors)).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });

    // The same socket still serves operations, and a subgraph's own errors come back typed too.
    const unread = client.subscribe<{ unreadCountChanged: number }>('subscription { unreadCountChanged }');
    await unread.waitForCount(1);
    const foreign = client.subscribe(COMMENT_ADDED, { id: '00000000-0000-4000-8000-000000000000' });
    await eventually('the unreadable document refused', () => foreign.errors.length > 0);
    expect(JSON.stringify(foreign.errors)).toContain('NOT_FOUND');
    expect(unread.errors).toEqual([]);
  });

  it('authenticates connection_init at the edge: 4401 without a valid token, 4403 for a foreign tenant', async () => {
    expect(await connect({}).closed).toMatchObject({ code: 4401 });
    expect(await connect({ authorization: 'Bearer not.a.token' }).closed).toMatchObject({ code: 4401 });
    const stranger = await registerAccount(platform.gatewayUrl, 'stranger');
    expect(await connect({ authorization: `Bearer ${stranger.accessToken}`, tenantId: owner.tenantId }).closed).toMatchObject({ code: 4403 });
  });

  it('speaks graphql-ws at the edge: pong to ping, 4408 without connection_init, 4429 on a second one', async () => {
    const rawSocket = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(platform.realtimeUrl, 'graphql-transport-ws');
        socket.once('open', () => resolve(socket));
        socket.once('error', reject);
      });
    const closeOf = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const nextMessage = (socket: WebSocket) => new Promise<{ type: string }>((resolve) => socket.once('message', (data) => resolve(JSON.parse(String(data)))));

    const silent = await rawSocket();
    const pong = nextMessage(silent);
    silent.send(JSON.stringify({ type: 'ping' }));
    expect(await pong).toEqual({ type: 'pong' });
    expect(await closeOf(silent)).toBe(4408);

    const eager = await rawSocket();
    const acknowledged = nextMessage(eager);
    eager.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${reader.token}` } }));
    expect(await acknowledged).toEqual({ type: 'connection_ack' });
    const closed = closeOf(eager);
    eager.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${reader.token}` } }));
    expect(await closed).toBe(4429);
  });

  it("closes a revoked session's socket with 4403", async () => {
    const leaving = await addTenantMember(platform.gatewayUrl, { token: owner.token, tenantId: owner.tenantId }, 'leaving', 'member');
    const client = connect({ authorization: `Bearer ${leaving.token}` });
    const comments = client.subscribe(COMMENT_ADDED, { id: documentId });
    const unread = client.subscribe('subscription { unreadCountChanged }');
    await unread.waitForCount(1);
    await graphqlData(platform.gatewayUrl, 'mutation { logout { sessionRevoked } }', { token: leaving.token });
    expect(await client.closed).toEqual({ code: 4403, reason: 'Session revoked' });
    expect(comments.errors).toEqual([]);
  });

  it('passes a subgraph closing its connection on to the client with the same code (content draining: 1001)', async () => {
    const client = connect({ authorization: `Bearer ${reader.token}` });
    const unread = client.subscribe('subscription { unreadCountChanged }');
    client.subscribe(COMMENT_ADDED, { id: documentId });
    await unread.waitForCount(1);
    await eventually('the content connection', async () => (await contentConnections()) === 1);
    await platform.content.stop();
    expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down; reconnect' });
  });
});
