import { setTimeout as sleep } from 'node:timers/promises';
import { SUBGRAPH_SERVICES } from '@multipult/registry';
import { freePort, graphql, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV } from './infrastructure';
import { cpuMicrosecondsIfRunning, postgresPids } from './process-cpu';
import { saveProfiles, startProfile } from './cpu-profile';
import { LiveClient, inParallel, setUp } from './realtime-fanout';

export interface MentionCpuOptions {
  /** Comments sent, each mentioning one user. */
  comments: number;
  /** Comments per second: moderate, so no queue builds up and the reading is cost, not backlog. */
  rate: number;
  /** Seconds of no load over which idle CPU is read. */
  idleSeconds: number;
  /** Where V8 CPU profiles of content and notifications during the load go; none taken when absent. */
  profileDir?: string;
}

export interface ProcessCpu {
  process: string;
  idleMicrosecondsPerSecond: number;
  loadMicroseconds: number;
  /** CPU during the load window divided by the comments sent. */
  microsecondsPerComment: number;
  /** The same, less what the process burns idle over as long a window. */
  netMicrosecondsPerComment: number;
}

/** After set-up (accounts, documents, sockets), for the jobs and events it caused to be handled. */
const IDLE_SETTLE_MS = 15_000;

export interface MentionCpuResult {
  comments: number;
  sendRate: number;
  loadSeconds: number;
  delivered: number;
  expected: number;
  processes: ProcessCpu[];
}

/**
 * CPU per mention along content → outbox → Kafka → notifications → socket: every service's
 * /proc CPU time (and the platform's PostgreSQL processes') over a window with no load, then over
 * `comments` comments at a fixed moderate rate, each mentioning one user with one open socket,
 * until every mention has reached its socket.
 */
export async function mentionCpu(options: MentionCpuOptions): Promise<MentionCpuResult> {
  const inspectPorts: Record<string, number> = {};
  if (options.profileDir) for (const { name } of SUBGRAPH_SERVICES) inspectPorts[name] = await freePort();
  const inspect = (name: string): Record<string, string> =>
    inspectPorts[name] ? { NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPorts[name]}` } : {};
  const platform = await startPlatform({
    env: BENCH_PRODUCTION_ENV,
    serviceEnv: Object.fromEntries(SUBGRAPH_SERVICES.map(({ name }) => [name, inspect(name)])),
    authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
    contentEnv: inspect('content'),
    notificationsEnv: { ...BENCH_NOTIFICATIONS_ENV, ...inspect('notifications') },
    gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
    // Under --inspect on a shared 2-core machine, start-up can exceed the one-minute default.
    readyTimeoutMs: 180_000,
  });
  try {
    const { ownerToken, accounts, documentIds } = await setUp(platform, 20);
    const databasePort = new URL(platform.databaseUrl).port || '5432';
    const processes: { name: string; pids: () => number[] }[] = [
      ...Object.values(platform.services).map((service) => ({ name: service.name, pids: () => [service.pid] })),
      { name: 'gateway', pids: () => [platform.gateway.pid] },
      // The postmaster first: its reaped children's time keeps backends that ended in the sum.
      { name: 'postgresql', pids: () => postgresPids(databasePort) },
    ];
    const read = () =>
      processes.map(({ name, pids }) => pids().reduce((sum, pid, index) => sum + cpuMicrosecondsIfRunning(pid, name === 'postgresql' && index === 0), 0));
    const wsUrl = `${platform.notificationsUrl.replace(/^http/, 'ws')}/ws`;
    const clients = accounts.map((account) => new LiveClient(wsUrl, account.token));
    await inParallel(clients, 20, (client) => client.connect(null));

    // Idle before any comment: work the warm-up queues (emails, webhooks) must not count as idle.
    await sleep(IDLE_SETTLE_MS);
    const idleProfiles = await Promise.all(Object.values(inspectPorts).map(startProfile));
    const idleStart = read();
    await sleep(options.idleSeconds * 1000);
    const idleEnd = read();
    await saveProfiles(options.profileDir, Object.keys(inspectPorts), '-idle', idleProfiles);

    // Warm up (JIT, pools, consumer assignment) before reading the load.
    await sendComments(platform.contentUrl, ownerToken, accounts, documentIds, 100, options.rate);
    await sleep(5_000);

    const loaded = ['content', 'notifications'].filter((name) => inspectPorts[name]);
    const loadProfiles = await Promise.all(loaded.map((name) => startProfile(inspectPorts[name])));
    for (const client of clients) client.received.length = 0;
    const loadStart = read();
    const started = performance.now();
    const sent = await sendComments(platform.contentUrl, ownerToken, accounts, documentIds, options.comments, options.rate);
    const sendRate = options.comments / ((performance.now() - started) / 1000);
    const delivered = () => clients.reduce((sum, client) => sum + client.received.filter((item) => item.type === 'mention').length, 0);
    const deadline = performance.now() + 120_000;
    while (delivered() < sent && performance.now() < deadline) await sleep(50);
    const loadSeconds = (performance.now() - started) / 1000;
    const loadEnd = read();
    await saveProfiles(options.profileDir, loaded, '', loadProfiles);
    await inParallel(clients, 20, (client) => client.close());

    return {
      comments: sent,
      sendRate,
      loadSeconds,
      delivered: delivered(),
      expected: sent,
      processes: processes.map(({ name }, index) => {
        const idlePerSecond = (idleEnd[index] - idleStart[index]) / options.idleSeconds;
        const load = loadEnd[index] - loadStart[index];
        return {
          process: name,
          idleMicrosecondsPerSecond: idlePerSecond,
          loadMicroseconds: load,
          microsecondsPerComment: load / sent,
          netMicrosecondsPerComment: (load - idlePerSecond * loadSeconds) / sent,
        };
      }),
    };
  } finally {
    await platform.stop();
  }
}

/** `count` addComment mutations straight to content at `rate` per second, each mentioning one account; resolves to how many committed. */
async function sendComments(
  contentUrl: string,
  token: string,
  accounts: { username: string }[],
  documentIds: string[],
  count: number,
  rate: number,
): Promise<number> {
  const started = performance.now();
  const inFlight: Promise<boolean>[] = [];
  const failures = new Map<string, number>();
  for (let index = 0; index < count; index += 1) {
    const wait = started + (index * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    const account = accounts[index % accounts.length];
    inFlight.push(
      graphql<{ addComment: { comment: { id: string } } }>(contentUrl, `mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }`, {
        token,
        variables: { input: { documentId: documentIds[index % documentIds.length], body: `Ping ${index}, @${account.username}` } },
      }).then((result) => {
        const committed = Boolean(result.data?.addComment.comment.id);
        if (!committed) {
          const error = JSON.stringify(result.errors ?? result).slice(0, 300);
          failures.set(error, (failures.get(error) ?? 0) + 1);
        }
        return committed;
      }),
    );
  }
  const committed = (await Promise.all(inFlight)).filter(Boolean).length;
  for (const [error, times] of failures) console.warn(`addComment failed ${times} times: ${error}`);
  return committed;
}
