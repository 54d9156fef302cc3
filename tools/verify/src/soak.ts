import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FakeOpenAI, Platform, ServiceProcess, SmtpCapture, eventually, startFakeOpenAI, startPlatform, startSmtpCapture } from '@multipult/testing';
import { consumerLag, describeLag } from './consumer-lag';
import { FaultWindow, faultPlan, injectFaults } from './faults';
import { SoakInfrastructure } from './infrastructure';
import { LiveClient } from './live-client';
import { Check, reconcile, unpublishedEvents } from './reconcile';
import { OPERATION_KINDS, Operation, OperationKind, Workload, setUpTenant } from './workload';

export interface SoakOptions {
  durationSeconds: number;
  /** Operations started per second, whatever kind (follow-up status polls come on top). */
  ratePerSecond: number;
  /** ACCESS_TOKEN_TTL_SECONDS: the soak's users renew their tokens as apps do, and live sockets reconnect when one expires. */
  accessTokenTtlSeconds: number;
  log(line: string): void;
}

export interface ResourceSample {
  at: number;
  process: string;
  rssMiB: number;
  fds: number;
  /** V8 heap in use and committed (the service's nodejs_heap_size_used_bytes and _total_bytes); absent for infrastructure. */
  heapUsedMiB?: number;
  heapTotalMiB?: number;
}

export interface ErrorRow {
  kind: OperationKind;
  errorType: string;
  count: number;
  /** The fault whose window each fell in, or "outside every fault window". */
  fault: string;
  insideWindow: boolean;
}

export interface LatencyRow {
  kind: OperationKind;
  phase: Phase;
  count: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RecoveryRow {
  fault: string;
  downSeconds: number;
  /** Seconds from the restart's end until the gateway's readiness answered 200 again (0 if it never failed). */
  gatewayReadySeconds: number;
  /** Seconds from the restart's end until the first success of each kind started after it. */
  firstSuccessSeconds: Partial<Record<OperationKind, number>>;
}

export interface ResourceRow {
  process: string;
  firstRssMiB: number;
  lastRssMiB: number;
  maxRssMiB: number;
  /** Least-squares slope after warm-up, MiB per minute. */
  rssSlopeMiBPerMinute: number;
  firstFds: number;
  lastFds: number;
  maxFds: number;
  fdSlopePerMinute: number;
  /**
   * The floor of the V8 heap after warm-up, first and last, and its slope: the lowest heap in use of
   * each minute, which is what survives collection (the heap in use saw-tooths between collections).
   */
  heapFloorMiB?: { first: number; last: number; slopeMiBPerMinute: number };
  /** The V8 heap committed (used or not) after warm-up: RSS beyond it is native memory. */
  heapTotalMiB?: { first: number; last: number; slopeMiBPerMinute: number };
}

export type Phase = 'before' | 'during' | 'between' | 'after';

export interface SoakReport {
  durationSeconds: number;
  /** How long the workload ran: the duration, or longer when the faults took longer to end. */
  workloadSeconds: number;
  ratePerSecond: number;
  startedAt: string;
  wallSeconds: number;
  operations: number;
  operationsPerSecond: number;
  failedOperations: number;
  faults: FaultWindow[];
  errors: ErrorRow[];
  errorsOutsideWindows: number;
  recovery: RecoveryRow[];
  latency: LatencyRow[];
  resources: ResourceRow[];
  checks: Check[];
  lost: number;
  duplicated: number;
  revocations: number;
  revokedSessionsUsable: number;
  liveReconnects: number;
  /** Access tokens of the tenant's users renewed with their refresh tokens during the run. */
  tokenRenewals: number;
  /** Renewals whose refresh token was refused (a rotation whose answer was lost), after which the user signed in again. */
  signInsAgain: number;
  /** Agent runs by final status, and the errors of those that failed. */
  agentRuns: Record<string, number>;
  agentRunErrors: string[];
  /** Service processes that exited without being killed. */
  crashes: string[];
  /** Partitions some consumer group had not consumed to the end when the drain was over. */
  consumerLag: string[];
  /** Every invariant that failed, in words; empty when the run passed. */
  failures: string[];
}

const MEMBERS = 4;
/** Shares of the operations started, by kind (a mix of reads, writes, realtime and background work). */
const MIX: [Exclude<OperationKind, 'status'>, number][] = [
  ['search', 28],
  ['document', 20],
  ['comment', 20],
  ['login', 10],
  ['signup', 6],
  ['export', 5],
  ['agentRun', 5],
  ['revocation', 6],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function slopePerMinute(points: { at: number; value: number }[]): number {
  if (points.length < 2) return 0;
  const meanX = points.reduce((sum, point) => sum + point.at, 0) / points.length;
  const meanY = points.reduce((sum, point) => sum + point.value, 0) / points.length;
  const covariance = points.reduce((sum, point) => sum + (point.at - meanX) * (point.value - meanY), 0);
  const variance = points.reduce((sum, point) => sum + (point.at - meanX) ** 2, 0);
  return variance ? (covariance / variance) * 60_000 : 0;
}

async function readHeapMiB(metricsUrl: string): Promise<Pick<ResourceSample, 'heapUsedMiB' | 'heapTotalMiB'>> {
  const text = await fetch(metricsUrl, { signal: AbortSignal.timeout(2_000) })
    .then((response) => (response.ok ? response.text() : ''))
    .catch(() => '');
  const mib = (metric: string) => {
    const bytes = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1];
    return bytes === undefined ? undefined : Number(bytes) / 1024 / 1024;
  };
  const heapUsedMiB = mib('nodejs_heap_size_used_bytes');
  const heapTotalMiB = mib('nodejs_heap_size_total_bytes');
  return { ...(heapUsedMiB === undefined ? {} : { heapUsedMiB }), ...(heapTotalMiB === undefined ? {} : { heapTotalMiB }) };
}

async function snapshotsOf(dir: string, pid: number): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.includes(`.${pid}.`) && name.endsWith('.heapsnapshot')).sort();
}

/** Waits until the process has written its `count`-th snapshot (Node names them Heap.<date>.<pid>.<thread>.<sequence>.heapsnapshot) in full. */
async function snapshotWritten(dir: string, pid: number, count: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const own = await snapshotsOf(dir, pid);
    if (own.length >= count) {
      const size = (await stat(path.join(dir, own[own.length - 1]))).size;
      // Node writes the file in one go: written in full once its size stops changing.
      if (size === lastSize && size > 0) return;
      lastSize = size;
    }
    await sleep(1_000);
  }
}

async function readResources(pid: number): Promise<{ rssMiB: number; fds: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    return { rssMiB: rssKiB / 1024, fds };
  } catch {
    return undefined;
  }
}

function heapFloor(samples: ResourceSample[], windowMs: number): Pick<ResourceRow, 'heapFloorMiB'> {
  const withHeap = samples.filter((sample) => sample.heapUsedMiB !== undefined);
  if (withHeap.length < 2) return {};
  const floors = new Map<number, { at: number; value: number }>();
  for (const sample of withHeap) {
    const window = Math.floor((sample.at - withHeap[0].at) / windowMs);
    const floor = floors.get(window);
    if (!floor || (sample.heapUsedMiB as number) < floor.value) floors.set(window, { at: sample.at, value: sample.heapUsedMiB as number });
  }
  const points = [...floors.values()];
  return { heapFloorMiB: { first: points[0].value, last: points[points.length - 1].value, slopeMiBPerMinute: slopePerMinute(points) } };
}

function heapCommitted(samples: ResourceSample[]): Pick<ResourceRow, 'heapTotalMiB'> {
  const points = samples.flatMap((sample) => (sample.heapTotalMiB === undefined ? [] : [{ at: sample.at, value: sample.heapTotalMiB }]));
  if (points.length < 2) return {};
  return { heapTotalMiB: { first: points[0].value, last: points[points.length - 1].value, slopeMiBPerMinute: slopePerMinute(points) } };
}

function pickKind(): Exclude<OperationKind, 'status'> {
  const total = MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [kind, weight] of MIX) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return MIX[0][0];
}

/** The agents service's model: every model name on the fake OpenAI-compatible server. */
const agentsEnv = (openai: FakeOpenAI) => ({
  AGENTS_MODEL_PROVIDERS: JSON.stringify({ fake: { baseUrl: openai.url, apiKey: 'soak', models: { '*': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, contextTokens: 8192 } } } }),
  AGENTS_DEFAULT_MODEL: 'fake/soak',
  AGENTS_EMBEDDING_MODEL: 'fake/embeddings',
  AGENTS_WORKSPACE_DIR: path.join(os.tmpdir(), 'multipult-soak-agent-workspaces'),
});

/**
 * The soak: infrastructure and platform of its own, a fixed-rate mixed workload through the
 * gateway for `durationSeconds` with faults injected in turn, then everything reconciled by id.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { log } = options;
  const wallStarted = Date.now();
  const infrastructure = await SoakInfrastructure.start(log);
  const savedEnv = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL, KAFKA_BROKERS: process.env.KAFKA_BROKERS };
  Object.assign(process.env, infrastructure.env);
  let smtp: SmtpCapture | undefined;
  let openai: FakeOpenAI | undefined;
  let platform: Platform | undefined;
  const live = new Map<string, LiveClient>();
  try {
    smtp = await startSmtpCapture();
    openai = await startFakeOpenAI();
    const snapshotDir = process.env.VERIFY_HEAP_SNAPSHOT_DIR;
    if (snapshotDir) await mkdir(snapshotDir, { recursive: true });
    platform = await startPlatform({
      // With a snapshot directory every service writes a heap snapshot on SIGUSR2 (after a full collection), at warm-up's end and the run's.
      env: { LOG_LEVEL: 'warn', ...(snapshotDir ? { NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${path.resolve(snapshotDir)}` } : {}) },
      authEnv: { ACCESS_TOKEN_TTL_SECONDS: String(options.accessTokenTtlSeconds), LOGIN_MAX_FAILURES_PER_IP: '100000' },
      serviceEnv: { agents: agentsEnv(openai) },
      notificationsEnv: { SMTP_URL: smtp.url, APP_URL: 'https://app.example' },
      gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
      // Start-up (and a replacement's) on a 2-core machine shared with other work can take minutes.
      readyTimeoutMs: 180_000,
    });
    log(`[soak] platform up after ${((Date.now() - wallStarted) / 1000).toFixed(1)} s: gateway ${platform.gatewayUrl}`);
    const running = platform;
    const services: Record<string, ServiceProcess> = { ...running.services, gateway: running.gateway };
    const stamp = Date.now().toString(36);
    const { owner, members, threadIds, agentId } = await setUpTenant(running.gatewayUrl, stamp, MEMBERS);
    const problems: string[] = [];
    for (const user of [owner, ...members]) {
      const socket = new LiveClient(running.gatewayUrl, running.realtimeUrl, () => user.session.token(), (what) => problems.push(what));
      await socket.open();
      live.set(user.userId, socket);
    }
    const workload = new Workload(running.gatewayUrl, owner, members, threadIds, agentId, stamp);

    // Readings while the workload runs: the gateway's readiness, and each process's memory and descriptors.
    const startedAt = Date.now();
    const endsAt = startedAt + options.durationSeconds * 1000;
    let workloadEndedAt = endsAt;
    const readiness: { at: number; ready: boolean }[] = [];
    const samples: ResourceSample[] = [];
    const crashes: { process: string; pid: number; at: number; service: ServiceProcess }[] = [];
    const replacing = new Set<string>();
    let sampling = true;
    const gatewayReadyUrl = `${running.gateway.url}/health/ready`;
    const readinessLoop = (async () => {
      while (sampling) {
        const ready = await fetch(gatewayReadyUrl, { signal: AbortSignal.timeout(2_000) })
          .then((response) => response.ok)
          .catch(() => false);
        readiness.push({ at: Date.now(), ready });
        await sleep(250);
      }
    })();
    const sampleEveryMs = Math.min(5_000, Math.max(1_000, options.durationSeconds * 10));
    const resourceLoop = (async () => {
      while (sampling) {
        const at = Date.now();
        // Each service is read as it was when the round began: a replacement started meanwhile is not its predecessor's crash.
        const processes: [string, number | undefined, ServiceProcess | undefined][] = [
          ...Object.entries(services).map(([name, service]) => [name, service.pid, service] as [string, number, ServiceProcess]),
          ...Object.entries(infrastructure.pids).map(([name, pid]) => [name, pid, undefined] as [string, number | undefined, undefined]),
        ];
        for (const [name, pid, service] of processes) {
          const reading = pid ? await readResources(pid) : undefined;
          if (reading) samples.push({ at, process: name, ...reading, ...(service ? await readHeapMiB(service.metricsUrl) : {}) });
          const stillCurrent = service !== undefined && services[name] === service && !replacing.has(name);
          if (!reading && service && stillCurrent && !crashes.some((crash) => crash.pid === service.pid)) {
            crashes.push({ process: name, pid: service.pid, at, service });
            log(`[soak] ${name} (pid ${service.pid}) exited on its own (${service.exitStatus() ?? 'status not known yet'}); its last output:\n${service.output().slice(-3000)}`);
          }
        }
        await sleep(sampleEveryMs);
      }
    })();

    const snapshotsTaken: Promise<void>[] = [];
    const takeSnapshots = async (label: string) => {
      if (!snapshotDir) return;
      for (const [name, service] of Object.entries(services)) {
        log(`[soak] heap snapshot (${label}) of ${name}, pid ${service.pid}`);
        const before = (await snapshotsOf(snapshotDir, service.pid)).length;
        process.kill(service.pid, 'SIGUSR2');
        await snapshotWritten(snapshotDir, service.pid, before + 1);
      }
    };
    const warmUpTimer = setTimeout(() => snapshotsTaken.push(takeSnapshots('warmed up')), options.durationSeconds * 200);
    const recoveryGraceMs = Math.min(20_000, Math.max(8_000, options.durationSeconds * 50));
    const faultsDone = injectFaults(faultPlan({ durationSeconds: options.durationSeconds, infrastructure, platform: running, services, replacing, log }), startedAt, recoveryGraceMs, log);
    // The workload outlasts the last fault by its recovery window and a tenth of the run (the "after" phase), however late the faults end.
    let faultsOverAt = Number.POSITIVE_INFINITY;
    void faultsDone.then(() => (faultsOverAt = Date.now()));
    const afterMs = recoveryGraceMs + options.durationSeconds * 100;
    const inFlight = new Set<Promise<unknown>>();
    for (let index = 0; ; index += 1) {
      const due = startedAt + (index * 1000) / options.ratePerSecond;
      if (due >= endsAt && due >= faultsOverAt + afterMs) break;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const operation = workload.run(pickKind()).finally(() => inFlight.delete(operation));
      inFlight.add(operation);
    }
    const faults = await faultsDone;
    workloadEndedAt = Date.now();
    log(`[soak] workload over after ${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${workload.operations.length} operations; draining`);
    await Promise.all([...inFlight]);
    await workload.settled();
    const slowestExport = Math.max(0, ...workload.exports.map((requested) => (requested.completedAt ?? Date.now()) - requested.requestedAt));
    log(`[soak] the slowest export took ${(slowestExport / 1000).toFixed(1)} s from its request to its end`);

    // Drain: every outbox row on Kafka, every mention on its socket (bounded waits; what is missing then is lost).
    await eventually('every outbox row published', async () => (await unpublishedEvents(running.databaseUrl)) === 0 || undefined, 60_000).catch((error) =>
      log(`[soak] ${(error as Error).message}`),
    );
    // Every consumer group at the end of its topics: slow consumption is waited for, what stays behind is where the broker says.
    const lagOf = () => consumerLag(infrastructure.env.KAFKA_BROKERS, running.kafkaTopicPrefix);
    await eventually('every consumer group at the end of its topics', async () => (await lagOf()).length === 0 || undefined, 60_000).catch((error) =>
      log(`[soak] ${(error as Error).message}`),
    );
    const lagLeft = await lagOf();
    if (lagLeft.length) log(`[soak] consumer lag left: ${describeLag(lagLeft)}`);
    const expectedLive = workload.mentions.length;
    await eventually(
      'every mention on its live socket',
      () => members.reduce((sum, member) => sum + (live.get(member.userId)?.received.filter((item) => item.type === 'mention').length ?? 0), 0) >= expectedLive || undefined,
      60_000,
    ).catch((error) => log(`[soak] ${(error as Error).message}`));
    const exportsReady = workload.exports.filter((requested) => requested.finalStatus === 'SUCCEEDED').length;
    await eventually('every export_ready on the owner socket', () => (live.get(owner.userId)?.received.filter((item) => item.type === 'export_ready').length ?? 0) >= exportsReady || undefined, 30_000).catch(
      (error) => log(`[soak] ${(error as Error).message}`),
    );
    sampling = false;
    await Promise.all([readinessLoop, resourceLoop]);
    clearTimeout(warmUpTimer);
    await Promise.all(snapshotsTaken);
    await takeSnapshots('end');

    // Revoked sessions stay refused to the end.
    let revokedSessionsUsable = 0;
    for (const revocation of workload.revocations) {
      if (revocation.usableAfterRevocation || (await workload.usable(revocation))) revokedSessionsUsable += 1;
    }
    const checks = await reconcile({ databaseUrl: running.databaseUrl, workload, owner, live, startedAt });
    const report = summarise({
      options,
      wallStarted,
      startedAt,
      endsAt: workloadEndedAt,
      operations: workload.operations,
      faults,
      readiness,
      samples,
      checks,
      revocations: workload.revocations.length,
      revokedSessionsUsable,
      liveReconnects: [...live.values()].reduce((sum, socket) => sum + socket.reconnects, 0),
      tokenRenewals: [owner, ...members].reduce((sum, user) => sum + user.session.renewals, 0),
      signInsAgain: [owner, ...members].reduce((sum, user) => sum + user.session.signInsAgain, 0),
      agentRuns: workload.runs.reduce<Record<string, number>>((counts, run) => ({ ...counts, [run.finalStatus ?? 'unfinished']: (counts[run.finalStatus ?? 'unfinished'] ?? 0) + 1 }), {}),
      agentRunErrors: [...new Set(workload.runs.flatMap((run) => (run.finalStatus === 'FAILED' && run.error ? [run.error] : [])))],
      consumerLag: lagLeft.map((row) => describeLag([row])),
      crashes: crashes.map((crash) => `${crash.process} (pid ${crash.pid}, ${crash.service.exitStatus() ?? 'exit status unknown'}) at +${((crash.at - startedAt) / 1000).toFixed(0)} s`),
    });
    if (problems.length) log(`[soak] live socket events: ${problems.length} (${[...new Set(problems)].join(', ')})`);
    // A live delivery lost is told against the recipient's sockets: which was open when the notification was stored, and where each resumed.
    const liveLosses = checks.filter((row) => row.name.endsWith('live socket delivery') && row.lost);
    if (liveLosses.length) {
      const at = (time: number | undefined) => (time === undefined ? '-' : `+${((time - startedAt) / 1000).toFixed(1)} s`);
      for (const [userId, socket] of live) {
        const history = socket.connections.map(
          (connection) => `  opened ${at(connection.openedAt)}, acknowledged ${at(connection.acknowledgedAt)} after ${connection.after}, closed ${at(connection.closedAt)} ${connection.closeCode ?? ''} ${connection.closeReason ?? ''}`,
        );
        log(`[soak] sockets of ${userId} (last sequence received ${Math.max(0, ...socket.received.map((item) => item.sequence))}):\n${history.join('\n')}`);
      }
    }
    // What the services logged (warnings and errors at the soak's level) is where a loss's cause shows.
    if (report.failures.length) {
      for (const [name, service] of Object.entries(services)) log(`[soak] ${name}'s last output:\n${service.output().slice(-4000)}`);
    }
    return report;
  } finally {
    for (const socket of live.values()) socket.close();
    await platform?.stop().catch((error) => log(`[soak] stopping the platform: ${(error as Error).message}`));
    await Promise.allSettled([smtp?.stop(), openai?.close()]);
    await infrastructure.stop();
    Object.assign(process.env, savedEnv);
    for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name];
  }
}

function phaseOf(operation: Operation, faults: FaultWindow[]): Phase {
  if (faults.some((fault) => operation.startedAt <= fault.windowEnd && operation.endedAt >= fault.injectedAt)) return 'during';
  if (!faults.length || operation.endedAt < faults[0].injectedAt) return 'before';
  if (operation.startedAt > faults[faults.length - 1].windowEnd) return 'after';
  return 'between';
}

function summarise(input: {
  options: SoakOptions;
  wallStarted: number;
  startedAt: number;
  endsAt: number;
  operations: Operation[];
  faults: FaultWindow[];
  readiness: { at: number; ready: boolean }[];
  samples: ResourceSample[];
} & Pick<SoakReport, 'checks' | 'revocations' | 'revokedSessionsUsable' | 'liveReconnects' | 'tokenRenewals' | 'signInsAgain' | 'agentRuns' | 'agentRunErrors' | 'crashes' | 'consumerLag'>): SoakReport {
  const { options, operations, faults, readiness, samples, checks } = input;
  const failed = operations.filter((operation) => !operation.ok);
  const errorRows = new Map<string, ErrorRow>();
  for (const operation of failed) {
    const fault = faults.find((window) => operation.startedAt <= window.windowEnd && operation.endedAt >= window.injectedAt);
    const key = `${operation.kind}|${operation.errorType}|${fault?.name ?? ''}`;
    const row = errorRows.get(key) ?? {
      kind: operation.kind,
      errorType: operation.errorType ?? 'unknown',
      count: 0,
      fault: fault?.name ?? 'outside every fault window',
      insideWindow: Boolean(fault),
    };
    row.count += 1;
    errorRows.set(key, row);
  }
  const errors = [...errorRows.values()].sort((a, b) => b.count - a.count);

  const latency: LatencyRow[] = [];
  for (const kind of OPERATION_KINDS) {
    for (const phase of ['before', 'during', 'between', 'after'] as Phase[]) {
      const durations = operations
        .filter((operation) => operation.ok && operation.kind === kind && phaseOf(operation, faults) === phase)
        .map((operation) => operation.endedAt - operation.startedAt)
        .sort((a, b) => a - b);
      if (durations.length) latency.push({ kind, phase, count: durations.length, p50Ms: percentile(durations, 50), p99Ms: percentile(durations, 99) });
    }
  }

  const recovery: RecoveryRow[] = faults.map((fault) => {
    const notReady = readiness.filter((reading) => reading.at >= fault.injectedAt && reading.at <= fault.windowEnd && !reading.ready);
    const backAt = readiness.find((reading) => reading.at >= (notReady.at(-1)?.at ?? fault.restoredAt) && reading.ready)?.at;
    const firstSuccessSeconds: Partial<Record<OperationKind, number>> = {};
    for (const kind of OPERATION_KINDS) {
      const first = operations
        .filter((operation) => operation.ok && operation.kind === kind && operation.startedAt >= fault.restoredAt)
        .sort((a, b) => a.endedAt - b.endedAt)[0];
      if (first) firstSuccessSeconds[kind] = (first.endedAt - fault.restoredAt) / 1000;
    }
    return {
      fault: fault.name,
      downSeconds: (fault.restoredAt - fault.injectedAt) / 1000,
      gatewayReadySeconds: notReady.length && backAt ? Math.max(0, (backAt - fault.restoredAt) / 1000) : 0,
      firstSuccessSeconds,
    };
  });

  // Warm-up: the first fifth of the run is left out of the slopes.
  const warmedUp = input.startedAt + (input.endsAt - input.startedAt) * 0.2;
  // A twelfth of the run, at least a minute: long enough that each window holds a full collection.
  const floorWindowMs = Math.max(60_000, (input.endsAt - input.startedAt) / 12);
  const resources: ResourceRow[] = [...new Set(samples.map((sample) => sample.process))].map((name) => {
    const own = samples.filter((sample) => sample.process === name);
    const settled = own.filter((sample) => sample.at >= warmedUp);
    return {
      process: name,
      firstRssMiB: own[0].rssMiB,
      lastRssMiB: own[own.length - 1].rssMiB,
      maxRssMiB: Math.max(...own.map((sample) => sample.rssMiB)),
      rssSlopeMiBPerMinute: slopePerMinute(settled.map((sample) => ({ at: sample.at, value: sample.rssMiB }))),
      firstFds: own[0].fds,
      lastFds: own[own.length - 1].fds,
      maxFds: Math.max(...own.map((sample) => sample.fds)),
      fdSlopePerMinute: slopePerMinute(settled.map((sample) => ({ at: sample.at, value: sample.fds }))),
      ...heapFloor(settled, floorWindowMs),
      ...heapCommitted(settled),
    };
  });

  const lost = checks.reduce((sum, row) => sum + row.lost, 0);
  const duplicated = checks.reduce((sum, row) => sum + row.duplicated, 0);
  const errorsOutsideWindows = errors.filter((row) => !row.insideWindow).reduce((sum, row) => sum + row.count, 0);
  const failures: string[] = [];
  if (errorsOutsideWindows) failures.push(`${errorsOutsideWindows} operations failed outside every fault window`);
  for (const row of checks) {
    if (row.lost) failures.push(`${row.name}: ${row.lost} lost of ${row.checked} (${row.examples.join('; ')})`);
    if (row.duplicated) failures.push(`${row.name}: ${row.duplicated} duplicated (${row.examples.join('; ')})`);
  }
  for (const crash of input.crashes) failures.push(`${crash} exited without being killed`);
  for (const lag of input.consumerLag) failures.push(`consumer group ${lag}`);
  if (input.revokedSessionsUsable) failures.push(`${input.revokedSessionsUsable} revoked sessions still usable`);
  for (const kind of OPERATION_KINDS) {
    if (kind !== 'status' && !operations.some((operation) => operation.kind === kind && operation.ok)) failures.push(`no ${kind} operation succeeded`);
  }
  if (faults.length < 4) failures.push(`only ${faults.length} of 4 faults were injected`);
  for (const fault of faults) if (fault.error) failures.push(`${fault.name}: not restored (${fault.error})`);
  for (const row of recovery) {
    const notBack = MIX.map(([kind]) => kind).filter((kind) => row.firstSuccessSeconds[kind] === undefined);
    if (notBack.length) failures.push(`${row.fault}: no ${notBack.join(', ')} operation succeeded afterwards`);
  }
  const wallSeconds = (Date.now() - input.wallStarted) / 1000;
  return {
    durationSeconds: options.durationSeconds,
    workloadSeconds: (input.endsAt - input.startedAt) / 1000,
    ratePerSecond: options.ratePerSecond,
    startedAt: new Date(input.startedAt).toISOString(),
    wallSeconds,
    operations: operations.length,
    operationsPerSecond: operations.filter((operation) => operation.kind !== 'status').length / ((input.endsAt - input.startedAt) / 1000),
    failedOperations: failed.length,
    faults,
    errors,
    errorsOutsideWindows,
    recovery,
    latency,
    resources,
    checks,
    lost,
    duplicated,
    revocations: input.revocations,
    revokedSessionsUsable: input.revokedSessionsUsable,
    liveReconnects: input.liveReconnects,
    tokenRenewals: input.tokenRenewals,
    signInsAgain: input.signInsAgain,
    agentRuns: input.agentRuns,
    agentRunErrors: input.agentRunErrors,
    crashes: input.crashes,
    consumerLag: input.consumerLag,
    failures,
  };
}
