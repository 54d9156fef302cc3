import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { CommentCreated } from '@multipult/events';
import { Platform, freePort, graphql, graphqlData, startPlatform } from '@multipult/testing';
import { saveProfiles, startProfile } from './cpu-profile';
import { HistogramSummary, histogramBetween, scrapeHistogram } from './prometheus-histogram';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, percentile } from './infrastructure';

export interface RealtimeOptions {
  connections: number;
  users: number;
  /** Mentions (each one notification to one user, i.e. to that user's open connections) per second. */
  rate: number;
  durationSeconds: number;
  /** Seconds of the same load before the measured window, not counted. */
  warmUpSeconds: number;
  reconnectWindowSeconds: number;
  /** Notifications each user misses while disconnected (announcements to the tenant). */
  missed: number;
  /** Partitions of the comment topic (mentions travel on it), as ops would provision it. */
  partitions: number;
  /**
   * The sockets on a notifications instance with EVENT_CONSUMERS_ENABLED and JOBS_WORKERS_ENABLED
   * false, and events and jobs (emails, webhooks) handled by a second one that holds no sockets (the
   * live bus carries what it announces), instead of everything on one.
   */
  separateDispatch: boolean;
  /**
   * Content's outbox relayed by a second content instance that serves no requests
   * (OUTBOX_RELAY_ENABLED=false on the one serving addComment), instead of by the one serving.
   */
  separateRelay: boolean;
  /** Where V8 CPU profiles of content and notifications over the measured window go; none taken when absent. */
  profileDir?: string;
}

export interface Distribution {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RealtimeResult {
  connections: number;
  users: number;
  connectSeconds: number;
  serviceRssMiB: { idle: number; connected: number };
  serviceKiBPerConnection: number;
  clientKiBPerConnection: number;
  /** The set-up's sign-ups (a burst, 8 at a time) as notifications' directory consumer saw their events. */
  signUps: { users: number; recipientsDelay: HistogramSummary };
  latency: {
    mentionsSent: number;
    sendRate: number;
    expectedDeliveries: number;
    deliveries: number;
    duplicates: number;
    fromCommit: Distribution;
    fromRequest: Distribution;
    mutationMs: Distribution;
    /** Commit → socket of the mentions sent in each second of the window. */
    fromCommitBySecond: Distribution[];
    /** The pipeline's stages as the services' own histograms saw them (bucket-interpolated). */
    stages: { stage: string; p50Ms: number; p99Ms: number }[];
  };
  storm: {
    clients: number;
    windowSeconds: number;
    expectedPerClient: number;
    recoveredClients: number;
    lost: number;
    duplicates: number;
    outOfOrder: number;
    recoverSeconds: number;
    refused: number;
  };
}

const DOCUMENTS = 32;
const SUBSCRIBE = 'subscription($after: Int) { notificationAdded(afterSequence: $after) { sequence type link } }';

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index], index);
      }
    }),
  );
  return results;
}

async function serviceRssMiB(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const match = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text);
  return match ? Number(match[1]) / 1024 ** 2 : Number.NaN;
}

/** A bare graphql-transport-ws client (no library), so 10 000 of them fit in the benchmark process. */
export class LiveClient {
  socket?: WebSocket;
  lastSequence = 0;
  readonly received: { sequence: number; type: string; link: string | null; at: number }[] = [];
  private acked?: () => void;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  connect(afterSequence: number | null): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, 'graphql-transport-ws', { perMessageDeflate: false });
      this.socket = socket;
      // A socket given up on must not live on: its late ack and deliveries would count as the retry's.
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error('no connection_ack within 30 s'));
      }, 30_000);
      socket.once('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: HTTP ${response.statusCode}`));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } })));
      this.acked = () => {
        clearTimeout(timer);
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE, variables: { after: afterSequence } } }));
        resolve();
      };
      socket.on('message', (raw) => this.onMessage(String(raw)));
    });
  }

  private onMessage(raw: string): void {
    const message = JSON.parse(raw) as { type: string; payload?: { data?: { notificationAdded?: { sequence: number; type: string; link: string | null } } } };
    if (message.type === 'connection_ack') return this.acked?.();
    if (message.type === 'ping') return this.socket?.send(JSON.stringify({ type: 'pong' }));
    const notification = message.payload?.data?.notificationAdded;
    if (message.type !== 'next' || !notification) return;
    this.received.push({ ...notification, at: performance.now() });
    this.lastSequence = Math.max(this.lastSequence, notification.sequence);
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.close(1000, 'bench');
    });
  }
}

export async function setUp(platform: Platform, users: number) {
  const stamp = Date.now().toString(36);
  const register = (name: string) =>
    graphqlData<{ register: { accessToken: string; user: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`,
      { variables: { input: { email: `${name}@bench.example`, username: name, password: 'a long bench passphrase 1', displayName: name } } },
    );
  const owner = await register(`owner_${stamp}`);
  const tenant = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
    platform.gatewayUrl,
    `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
    { token: owner.register.accessToken, variables: { input: { name: 'Bench', slug: `bench-${stamp}` } } },
  );
  const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
    platform.gatewayUrl,
    `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
    { token: owner.register.accessToken, variables: { input: { tenantId: tenant.createTenant.tenant.id } } },
  );
  const ownerToken = switched.switchTenant.accessToken;
  const accounts = await inParallel(
    Array.from({ length: users }, (_, index) => `u${index}_${stamp}`),
    8,
    async (name) => {
      const { register: account } = await register(name);
      await graphqlData(platform.gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { createdAt } } }`, {
        token: ownerToken,
        variables: { input: { email: `${name}@bench.example`, role: 'member' } },
      });
      // The benchmark measures live delivery; mention emails would only load the same CPUs.
      await graphqlData(platform.gatewayUrl, `mutation { setNotificationPreference(input: { type: "mention", channel: EMAIL, enabled: false }) { settings { locale } } }`, {
        token: account.accessToken,
      });
      return { username: name, userId: account.user.id, token: account.accessToken };
    },
  );
  // Mentions spread over many threads, as in real use (events of one document share a partition, in order).
  const documentIds = await inParallel(Array.from({ length: DOCUMENTS }, (_, index) => index), 4, async (index) => {
    const created = await graphqlData<{ createDocument: { document: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }`,
      { token: ownerToken, variables: { input: { title: `Bench thread ${index}`, body: 'Where the mentions happen.', type: 'ARTICLE', language: 'en' } } },
    );
    const documentId = created.createDocument.document.id;
    await graphqlData(platform.gatewayUrl, `mutation($input: DocumentIdInput!) { publishDocument(input: $input) { document { id } } }`, {
      token: ownerToken,
      variables: { input: { id: documentId } },
    });
    return documentId;
  });
  return { ownerToken, accounts, documentIds };
}

/**
 * 10 000 authenticated graphql-ws connections on one notifications instance; mentions at a fixed
 * rate through content → outbox → Kafka → notifications → Redis → socket, timed from the mutation's
 * response (its commit) to arrival; then every client disconnects, misses announcements and
 * reconnects within a window, resuming after its last sequence.
 */
export async function realtimeFanout(options: RealtimeOptions): Promise<RealtimeResult> {
  const inspectPorts: Record<string, number> = options.profileDir ? { content: await freePort(), notifications: await freePort() } : {};
  const inspect = (name: string): Record<string, string> =>
    inspectPorts[name] ? { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPorts[name]}` } : {};
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    // In the platform's own Kafka namespace: a topic of that name outside it is not the one the services use.
    kafkaTopics: { [CommentCreated.topic]: options.partitions },
    contentEnv: { ...inspect('content'), OUTBOX_RELAY_ENABLED: String(!options.separateRelay) },
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    notificationsEnv: {
      ...BENCH_NOTIFICATIONS_ENV,
      REALTIME_MAX_CONNECTIONS: String(options.connections + 1_000),
      REALTIME_MAX_CONNECTIONS_PER_IP: String(options.connections + 1_000),
      DATABASE_POOL_MAX: '20',
      ...inspect('notifications'),
      EVENT_CONSUMERS_ENABLED: String(!options.separateDispatch),
      JOBS_WORKERS_ENABLED: String(!options.separateDispatch),
    },
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
    // On a shared 2-core machine start-up can exceed the one-minute default.
    readyTimeoutMs: 180_000,
  });
  try {
    const dispatcher = options.separateDispatch ? await platform.startServiceInstance('notifications', { EVENT_CONSUMERS_ENABLED: 'true', JOBS_WORKERS_ENABLED: 'true', NODE_OPTIONS: '' }) : platform.notifications;
    const relay = options.separateRelay ? await platform.startServiceInstance('content', { OUTBOX_RELAY_ENABLED: 'true', NODE_OPTIONS: '' }) : platform.content;
    const recipientsDelay = { url: dispatcher.metricsUrl, name: 'events_consumer_delay_seconds', labels: { group: 'notifications.recipients' } };
    const beforeSignUps = await scrapeHistogram(recipientsDelay.url, recipientsDelay.name, recipientsDelay.labels);
    const { ownerToken, accounts, documentIds } = await setUp(platform, options.users);
    const notificationsBase = platform.notificationsUrl.replace(/\/graphql$/, '');
    const wsUrl = `${notificationsBase.replace(/^http/, 'ws')}/graphql/ws`;
    const clients = Array.from({ length: options.connections }, (_, index) => new LiveClient(wsUrl, accounts[index % accounts.length].token));
    const byUser = new Map<string, LiveClient[]>();
    clients.forEach((client, index) => {
      const { userId } = accounts[index % accounts.length];
      byUser.set(userId, [...(byUser.get(userId) ?? []), client]);
    });

    await sleep(2_000);
    const signUps = { users: accounts.length, recipientsDelay: histogramBetween(beforeSignUps, await scrapeHistogram(recipientsDelay.url, recipientsDelay.name, recipientsDelay.labels)) };
    const idleRss = await serviceRssMiB(platform.notifications.metricsUrl);
    const clientRssBefore = process.memoryUsage().rss;
    const connectStarted = performance.now();
    await inParallel(clients, 200, (client) => client.connect(null));
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    await sleep(3_000);
    const connectedRss = await serviceRssMiB(platform.notifications.metricsUrl);
    const clientKiBPerConnection = (process.memoryUsage().rss - clientRssBefore) / 1024 / options.connections;

    // Latency: mentions at a fixed rate, each to one user (all of that user's connections). The
    // warm-up runs the same load first, so the window measures the steady state (JIT, pools, fetch
    // sessions), not a cold start; the timeline shows where in the window the tail comes from.
    const deliveredCount = () =>
      clients.reduce((sum, client) => sum + client.received.filter((item) => item.type === 'mention').length, 0);
    const sendMentions = async (seconds: number) => {
      const sent = new Map<string, { requestAt: number; committedAt: number; userId: string }>();
      const mutationMs: number[] = [];
      const total = Math.round(options.rate * seconds);
      const started = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let index = 0; index < total; index += 1) {
        const due = started + (index * 1000) / options.rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const account = accounts[Math.floor(Math.random() * accounts.length)];
        const requestAt = performance.now();
        inFlight.push(
          graphql<{ addComment: { comment: { id: string } } }>(
            platform.contentUrl,
            `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`,
            { token: ownerToken, variables: { input: { documentId: documentIds[index % documentIds.length], body: `Ping ${index}, @${account.username}` } } },
          ).then((result) => {
            const committedAt = performance.now();
            const id = result.data?.addComment.comment.id;
            if (!id) return;
            mutationMs.push(committedAt - requestAt);
            sent.set(id, { requestAt, committedAt, userId: account.userId });
          }),
        );
      }
      await Promise.all(inFlight);
      const sendRate = total / ((performance.now() - started) / 1000);
      const expectedDeliveries = [...sent.values()].reduce((sum, { userId }) => sum + (byUser.get(userId)?.length ?? 0), 0);
      const deadline = performance.now() + 60_000;
      while (deliveredCount() < expectedDeliveries && performance.now() < deadline) await sleep(200);
      return { sent, mutationMs, started, sendRate, expectedDeliveries };
    };
    if (options.warmUpSeconds > 0) {
      await sendMentions(options.warmUpSeconds);
      for (const client of clients) client.received.length = 0;
    }
    // Where the time goes: the kit's freshness histograms, read around the window.
    const stages: { stage: string; url: string; name: string; labels: Record<string, string> }[] = [
      { stage: 'commit -> broker (outbox relay)', url: relay.metricsUrl, name: 'outbox_publish_delay_seconds', labels: { topic: 'content.comment' } },
      { stage: 'occurred -> handled (dispatch committed)', url: dispatcher.metricsUrl, name: 'events_consumer_delay_seconds', labels: { group: 'notifications.dispatch', topic: 'content.comment' } },
    ];
    const stagesBefore = await Promise.all(stages.map(({ url, name, labels }) => scrapeHistogram(url, name, labels)));
    const profiles = await Promise.all(Object.values(inspectPorts).map(startProfile));
    const { sent, mutationMs, started, sendRate, expectedDeliveries } = await sendMentions(options.durationSeconds);
    await saveProfiles(options.profileDir, Object.keys(inspectPorts), '-realtime', profiles);
    const stagesAfter = await Promise.all(stages.map(({ url, name, labels }) => scrapeHistogram(url, name, labels)));

    const fromCommit: number[] = [];
    const fromRequest: number[] = [];
    const bySecond: number[][] = Array.from({ length: Math.ceil(options.durationSeconds) }, () => []);
    let duplicates = 0;
    for (const client of clients) {
      const seen = new Set<number>();
      for (const item of client.received) {
        if (seen.has(item.sequence)) duplicates += 1;
        seen.add(item.sequence);
        const commentId = item.link ? new URL(item.link).searchParams.get('comment') : null;
        const origin = commentId ? sent.get(commentId) : undefined;
        if (!origin) continue;
        fromCommit.push(item.at - origin.committedAt);
        fromRequest.push(item.at - origin.requestAt);
        bySecond[Math.min(bySecond.length - 1, Math.floor((origin.requestAt - started) / 1000))].push(item.at - origin.committedAt);
      }
    }

    const deliveries = deliveredCount();

    // Reconnect storm: everyone drops, misses `missed` announcements, and comes back within the window.
    const lastSeen = clients.map((client) => client.lastSequence);
    await inParallel(clients, 500, (client) => client.close());
    for (const client of clients) client.received.length = 0;
    for (let index = 0; index < options.missed; index += 1) {
      await graphqlData(platform.gatewayUrl, `mutation($input: PublishAnnouncementInput!) { publishAnnouncement(input: $input) { announcement { id } } }`, {
        token: ownerToken,
        variables: { input: { title: `While you were away ${index + 1}`, body: 'Reconnect storm' } },
      });
    }
    let refused = 0;
    const stormStarted = performance.now();
    const spacingMs = (options.reconnectWindowSeconds * 1000) / clients.length;
    await Promise.all(
      clients.map(async (client, index) => {
        await sleep(index * spacingMs);
        for (let attempt = 0; ; attempt += 1) {
          try {
            await client.connect(lastSeen[index]);
            return;
          } catch {
            refused += 1;
            if (attempt >= 5) return;
            await sleep(200 * 2 ** attempt);
          }
        }
      }),
    );
    const complete = (client: LiveClient) => client.received.filter((item) => item.type === 'announcement').length >= options.missed;
    const stormDeadline = performance.now() + 60_000;
    while (!clients.every(complete) && performance.now() < stormDeadline) await sleep(100);
    const recoverSeconds = (performance.now() - stormStarted) / 1000;
    await sleep(500);
    let lost = 0;
    let stormDuplicates = 0;
    let outOfOrder = 0;
    for (const [index, client] of clients.entries()) {
      const sequences = client.received.map((item) => item.sequence);
      const expected = Array.from({ length: options.missed }, (_, step) => lastSeen[index] + step + 1);
      lost += expected.filter((sequence) => !sequences.includes(sequence)).length;
      stormDuplicates += sequences.length - new Set(sequences).size;
      outOfOrder += sequences.filter((sequence, position) => position > 0 && sequence <= sequences[position - 1]).length;
    }
    await inParallel(clients, 500, (client) => client.close());

    return {
      connections: options.connections,
      users: options.users,
      connectSeconds,
      serviceRssMiB: { idle: idleRss, connected: connectedRss },
      serviceKiBPerConnection: ((connectedRss - idleRss) * 1024) / options.connections,
      clientKiBPerConnection,
      signUps,
      latency: {
        mentionsSent: sent.size,
        sendRate,
        expectedDeliveries,
        deliveries,
        duplicates,
        fromCommit: distribution(fromCommit),
        fromRequest: distribution(fromRequest),
        mutationMs: distribution(mutationMs),
        fromCommitBySecond: bySecond.map(distribution),
        stages: stages.map(({ stage }, index) => {
          const { p50Ms, p99Ms } = histogramBetween(stagesBefore[index], stagesAfter[index]);
          return { stage, p50Ms, p99Ms };
        }),
      },
      storm: {
        clients: clients.length,
        windowSeconds: options.reconnectWindowSeconds,
        expectedPerClient: options.missed,
        recoveredClients: clients.filter(complete).length,
        lost,
        duplicates: stormDuplicates,
        outOfOrder,
        recoverSeconds,
        refused,
      },
    };
  } finally {
    await platform.stop();
  }
}
