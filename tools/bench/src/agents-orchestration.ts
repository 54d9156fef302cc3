import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { Client } from 'pg';
import { FakeOpenAI, Platform, graphqlData, startFakeOpenAI, startPlatform } from '@multipult/testing';
import { BENCH_NOTIFICATIONS_ENV, BENCH_PRODUCTION_ENV, percentile } from './infrastructure';
import { HistogramSummary, histogramBetween, scrapeHistogram } from './prometheus-histogram';

/*
 * The agents service against an OpenAI-compatible model that answers at once (the fake server,
 * no delays), so what is measured is the orchestration around the model call: the job queue,
 * claims, transcript and event writes, scheduling of dependents, and event streaming.
 *
 * 1. Sequential single-task runs through the gateway, each followed to run.completed over the
 *    NDJSON stream, interleaved with the same chat completion made directly with the `openai` SDK
 *    to the same fake server (the model's own time); and the service's own histogram of the time
 *    a task spends outside model calls (agents_task_overhead_seconds).
 * 2. Many 5-task plans (4 independent tasks, then one that depends on all) created at once, each
 *    followed over NDJSON: throughput, run times, peak RSS of the agents process.
 * 3. From the same streams: for each event committed after its stream was requested, receive time
 *    minus the event's createdAt (PostgreSQL now(): its transaction's start, so an upper bound on
 *    commit -> client; same machine clock, millisecond precision).
 */

export interface AgentsOrchestrationOptions {
  /** Sequential single-task runs measured, after `warmupRuns` unmeasured ones. */
  sequentialRuns: number;
  warmupRuns: number;
  /** 5-task plans created at once. */
  concurrentRuns: number;
  /** The agents service's AGENTS_TASK_CONCURRENCY and JOBS_POLL_INTERVAL_SECONDS. */
  taskConcurrency: number;
  pollIntervalSeconds: number;
  /** Memories of one agent and member searched, and searches timed. */
  memories: number;
  memorySearches: number;
}

export interface Distribution {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface AgentsOrchestrationResult {
  sequential: {
    runs: number;
    /** Mutation sent -> run.completed received over NDJSON. */
    runWallMs: Distribution;
    /** The same chat completion straight to the fake server with the SDK (the model's own time). */
    modelBaselineMs: Distribution;
    /** The model call as the service timed it (message.completed latencyMs). */
    modelAsSeenByServiceMs: Distribution;
    /** Where a run's time goes, from its events' createdAt (server clock). */
    phases: Record<string, Distribution>;
    histogram: HistogramSummary;
  };
  concurrent: {
    runs: number;
    tasks: number;
    completed: number;
    failed: number;
    stuck: number;
    seconds: number;
    runsPerSecond: number;
    tasksPerSecond: number;
    /** createAgentPlan sent -> run.completed received. */
    runMs: Distribution;
    histogram: HistogramSummary;
    agentsPeakRssMiB: number;
  };
  delivery: Distribution & { caughtUp: number };
  /** agentMemories through the gateway over `memories` rows of one agent and member: by similarity, and the newest-first listing as the baseline. */
  memory: { memories: number; seedSeconds: number; search: Distribution & { p95Ms: number }; listing: Distribution & { p95Ms: number } };
  /** Errors of the tasks of failed runs (from run.failed), by message, with their counts. */
  taskErrors: Record<string, number>;
  /** Distinct warning and error lines the agents service logged, with their counts. */
  serviceProblems: Record<string, number>;
  taskOutcomes: Record<string, number>;
  /** The machine: CPUs and its 1-minute load average when the bench started and ended (other work on it shows here). */
  machine: { cpus: number; loadBefore: number; loadAfter: number };
  modelRequests: { total: number; failed: number };
}

interface StreamedEvent {
  id: number;
  runId: string;
  type: string;
  taskId: string | null;
  payload: Record<string, unknown>;
  createdAt: string;
}

interface Received {
  event: StreamedEvent;
  /** Date.now() when its line arrived. */
  at: number;
}

const FINAL_TYPES = new Set(['run.completed', 'run.failed', 'run.cancelled']);

export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    meanMs: sorted.length ? sorted.reduce((sum, value) => sum + value, 0) / sorted.length : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

async function taskOutcomes(agentsMetricsUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(agentsMetricsUrl)).text();
  const outcomes: Record<string, number> = {};
  for (const match of text.matchAll(/^agents_tasks_total\{[^}]*outcome="([^"]+)"[^}]*\} (\S+)$/gm)) outcomes[match[1]] = Number(match[2]);
  return outcomes;
}

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/**
 * A run's events over NDJSON through the gateway until its final event (or `timeoutMs`), each
 * with its arrival time; heartbeats are left out.
 */
async function followRun(streamBase: string, token: string, runId: string, timeoutMs: number): Promise<{ requestedAt: number; received: Received[] }> {
  const requestedAt = Date.now();
  const response = await fetch(`${streamBase}/agents/runs/${runId}/events?last_event_id=0`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200 || !response.body) throw new Error(`run ${runId} stream answered ${response.status}: ${await response.text()}`);
  const received: Received[] = [];
  let buffered = '';
  try {
    for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
      const at = Date.now();
      buffered += text;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        if (!line.trim()) continue;
        const event = JSON.parse(line) as StreamedEvent;
        if (event.type === 'heartbeat') continue;
        received.push({ event, at });
      }
    }
  } catch (error) {
    // A run that never finished: what arrived is reported, the run counts as stuck.
    if (!(error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))) throw error;
  }
  return { requestedAt, received };
}

async function createAccount(gateway: string): Promise<string> {
  const stamp = Date.now().toString(36);
  const registered = await graphqlData<{ register: { accessToken: string } }>(
    gateway,
    `mutation($input: RegisterInput!) { register(input: $input) { accessToken } }`,
    { variables: { input: { email: `bench-agents-${stamp}@example.com`, password: 'correct horse battery staple 7', displayName: 'Bench Agents' } } },
  );
  const created = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
    gateway,
    `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }`,
    { token: registered.register.accessToken, variables: { input: { name: 'Bench agents', slug: `bench-agents-${stamp}` } } },
  );
  const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
    gateway,
    `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
    { token: registered.register.accessToken, variables: { input: { tenantId: created.createTenant.tenant.id } } },
  );
  return switched.switchTenant.accessToken;
}

async function createAgent(gateway: string, token: string, name: string, model: string): Promise<string> {
  const created = await graphqlData<{ createAgent: { agent: { id: string } } }>(
    gateway,
    `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
    // The highest limit an agent may have: the service's task concurrency is what limits here.
    { token, variables: { input: { name, model, concurrencyLimit: 64 } } },
  );
  return created.createAgent.agent.id;
}

/** The messages the service sends for a direct run of an agent without a system prompt or tools. */
function messagesFor(prompt: string): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: 'Work only inside the files and commands your tools give you; some tool calls wait for a human decision.' },
    { role: 'user', content: prompt },
  ];
}

/** One streamed chat completion as the service makes it, consumed to the end; its duration. */
async function directModelCall(client: OpenAI, model: string, prompt: string): Promise<number> {
  const started = performance.now();
  const stream = await client.chat.completions.create({ model, messages: messagesFor(prompt), stream: true, stream_options: { include_usage: true } });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  if (!content) throw new Error('the fake model answered nothing');
  return performance.now() - started;
}

const eventTime = (received: Received[], type: string) => {
  const found = received.find((item) => item.event.type === type);
  return found ? Date.parse(found.event.createdAt) : Number.NaN;
};

async function sequentialPhase(platform: Platform, openai: FakeOpenAI, token: string, options: AgentsOrchestrationOptions) {
  const gateway = platform.gatewayUrl;
  const streamBase = gateway.replace(/\/graphql$/, '');
  const agentsMetricsUrl = platform.services.agents.metricsUrl;
  const model = 'bench-sequential';
  const agentId = await createAgent(gateway, token, 'Sequential', `fake/${model}`);
  const client = new OpenAI({ baseURL: openai.url, apiKey: 'bench', maxRetries: 0 });
  const wall: number[] = [];
  const baseline: number[] = [];
  const serviceModel: number[] = [];
  const phases: Record<string, number[]> = { 'run.created -> task.started (queue pickup)': [], 'task.started -> message.completed': [], 'message.completed -> run.completed': [], 'run.created -> run.completed': [] };
  let before = await scrapeHistogram(agentsMetricsUrl, 'agents_task_overhead_seconds');
  for (let index = 0; index < options.warmupRuns + options.sequentialRuns; index++) {
    if (index === options.warmupRuns) before = await scrapeHistogram(agentsMetricsUrl, 'agents_task_overhead_seconds');
    const measured = index >= options.warmupRuns;
    const prompt = `Sequential request ${index}: answer briefly.`;
    const started = performance.now();
    const result = await graphqlData<{ startAgentRun: { run: { id: string } } }>(
      gateway,
      `mutation($input: StartAgentRunInput!) { startAgentRun(input: $input) { run { id } } }`,
      { token, variables: { input: { agentId, prompt } } },
    );
    const { received } = await followRun(streamBase, token, result.startAgentRun.run.id, 30_000);
    const finished = performance.now() - started;
    const final = received.at(-1)?.event.type;
    if (final !== 'run.completed') throw new Error(`sequential run ${result.startAgentRun.run.id} ended with ${final ?? 'no events'}`);
    const modelCall = await directModelCall(client, model, prompt);
    if (!measured) continue;
    wall.push(finished);
    baseline.push(modelCall);
    const completed = received.find((item) => item.event.type === 'message.completed');
    serviceModel.push(Number(completed?.event.payload.latencyMs ?? Number.NaN));
    const created = eventTime(received, 'run.created');
    const taskStarted = eventTime(received, 'task.started');
    const messageCompleted = eventTime(received, 'message.completed');
    const runCompleted = eventTime(received, 'run.completed');
    phases['run.created -> task.started (queue pickup)'].push(taskStarted - created);
    phases['task.started -> message.completed'].push(messageCompleted - taskStarted);
    phases['message.completed -> run.completed'].push(runCompleted - messageCompleted);
    phases['run.created -> run.completed'].push(runCompleted - created);
  }
  const histogram = histogramBetween(before, await scrapeHistogram(agentsMetricsUrl, 'agents_task_overhead_seconds'));
  return {
    runs: wall.length,
    runWallMs: distribution(wall),
    modelBaselineMs: distribution(baseline),
    modelAsSeenByServiceMs: distribution(serviceModel),
    phases: Object.fromEntries(Object.entries(phases).map(([name, values]) => [name, distribution(values)])),
    histogram,
  };
}

async function concurrentPhase(platform: Platform, token: string, options: AgentsOrchestrationOptions) {
  const gateway = platform.gatewayUrl;
  const streamBase = gateway.replace(/\/graphql$/, '');
  const agentsMetricsUrl = platform.services.agents.metricsUrl;
  const workerId = await createAgent(gateway, token, 'Plan worker', 'fake/bench-worker');
  const combinerId = await createAgent(gateway, token, 'Plan combiner', 'fake/bench-combiner');
  const independent = ['a', 'b', 'c', 'd'];
  const tasks = [
    ...independent.map((key) => ({ key, agentId: workerId, prompt: `Part ${key}: answer briefly.` })),
    { key: 'e', agentId: combinerId, prompt: 'Combine the parts.', dependsOn: independent },
  ];
  const before = await scrapeHistogram(agentsMetricsUrl, 'agents_task_overhead_seconds');
  const started = performance.now();
  const followed = await Promise.all(
    Array.from({ length: options.concurrentRuns }, async (_, index) => {
      const requested = performance.now();
      const created = await graphqlData<{ createAgentPlan: { run: { id: string } } }>(
        gateway,
        `mutation($input: CreateAgentPlanInput!) { createAgentPlan(input: $input) { run { id } } }`,
        { token, variables: { input: { request: `Bench plan ${index}`, autoStart: true, tasks } } },
      );
      const stream = await followRun(streamBase, token, created.createAgentPlan.run.id, 120_000);
      const last = stream.received.at(-1);
      return { ...stream, requested, finishedAt: performance.now(), final: last && FINAL_TYPES.has(last.event.type) ? last.event.type : 'none' };
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const histogram = histogramBetween(before, await scrapeHistogram(agentsMetricsUrl, 'agents_task_overhead_seconds'));
  const completed = followed.filter((run) => run.final === 'run.completed');
  const taskErrors: Record<string, number> = {};
  for (const run of followed) {
    const failure = run.received.find((item) => item.event.type === 'run.failed');
    const failedTasks = (failure?.event.payload.tasks ?? []) as { key: string; status: string; error: string | null }[];
    for (const task of failedTasks.filter((candidate) => candidate.status === 'failed')) {
      const message = (task.error ?? 'no error').slice(0, 160);
      taskErrors[message] = (taskErrors[message] ?? 0) + 1;
    }
  }
  const latencies: number[] = [];
  let caughtUp = 0;
  for (const run of followed) {
    for (const item of run.received) {
      const committed = Date.parse(item.event.createdAt);
      // Events committed before the stream was asked for arrive in its catch-up read: not live delivery.
      if (committed < run.requestedAt) caughtUp += 1;
      else latencies.push(item.at - committed);
    }
  }
  return {
    concurrent: {
      runs: options.concurrentRuns,
      tasks: options.concurrentRuns * tasks.length,
      completed: completed.length,
      failed: followed.filter((run) => run.final === 'run.failed' || run.final === 'run.cancelled').length,
      stuck: followed.filter((run) => run.final === 'none').length,
      seconds,
      runsPerSecond: completed.length / seconds,
      tasksPerSecond: (completed.length * tasks.length) / seconds,
      runMs: distribution(completed.map((run) => run.finishedAt - run.requested)),
      histogram,
      agentsPeakRssMiB: await peakRssMiB(platform.services.agents.pid),
    },
    delivery: { ...distribution(latencies), caughtUp },
    taskErrors,
  };
}

/**
 * Warning and error lines of a service's log (levels as labels, libs/observability), by message (with the
 * statement and error of a failed or slow statement), ids left out so alike lines count together.
 */
function loggedProblems(output: string): Record<string, number> {
  const problems: Record<string, number> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string; query?: string; err?: { message?: string } };
      if (!['warn', 'error', 'fatal'].includes(entry.level ?? '')) continue;
      const parts = [entry.msg, entry.err?.message ?? entry.error, entry.query?.replace(/\s+/g, ' ').slice(0, 90)].filter(Boolean);
      const message = parts.join(': ').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').replace(/^\d+ task\(s\)/, 'N task(s)');
      problems[message] = (problems[message] ?? 0) + 1;
    } catch {
      // Not a log line (a stack trace printed by the runtime): left out.
    }
  }
  return problems;
}

/**
 * Memory search at scale: `memories` rows of one agent and member (random 64-dimension vectors, as
 * the fake embeddings model makes) written straight into the table, then searched through the
 * gateway one query at a time; the newest-first listing of the same rows is the baseline.
 */
async function memoryPhase(platform: Platform, token: string, options: AgentsOrchestrationOptions) {
  const [, payload] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string; tid: string };
  const agentId = await createAgent(platform.gatewayUrl, token, 'Memory bench', 'fake/memory');
  const client = new Client({ connectionString: platform.databaseUrl });
  await client.connect();
  const seedStarted = performance.now();
  try {
    await client.query(
      `INSERT INTO agents.agent_memories (tenant_id, agent_id, user_id, content, metadata, embedding_model, embedding)
       SELECT $1, $2, $3, 'memory ' || i, jsonb_build_object('shard', i % 10), 'fake/embeddings',
              (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, 64) WHERE i > 0)
         FROM generate_series(1, $4::int) AS i`,
      [claims.tid, agentId, claims.sub, options.memories],
    );
    await client.query('ANALYZE agents.agent_memories');
  } finally {
    await client.end();
  }
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const time = async (query: string | null) => {
    const started = performance.now();
    await graphqlData(platform.gatewayUrl, `query($id: ID!, $q: String) { agentMemories(agentId: $id, query: $q, first: 5) { memory { id } score } }`, {
      token,
      variables: { id: agentId, q: query },
    });
    return performance.now() - started;
  };
  for (let index = 0; index < 5; index += 1) await time(`warm-up ${index}`);
  const search: number[] = [];
  const listing: number[] = [];
  for (let index = 0; index < options.memorySearches; index += 1) {
    search.push(await time(`what do you remember about topic ${index}`));
    listing.push(await time(null));
  }
  const withP95 = (values: number[]) => ({ ...distribution(values), p95Ms: percentile([...values].sort((a, b) => a - b), 95) });
  return { memories: options.memories, seedSeconds, search: withP95(search), listing: withP95(listing) };
}

export async function agentsOrchestration(options: AgentsOrchestrationOptions): Promise<AgentsOrchestrationResult> {
  const loadBefore = os.loadavg()[0];
  const openai = await startFakeOpenAI();
  const workspaces = await mkdtemp(path.join(os.tmpdir(), 'bench-agents-'));
  try {
    const platform = await startPlatform({
      env: BENCH_PRODUCTION_ENV,
      authEnv: { SIGNING_KEY_SECRET: 'benchmark-signing-key-secret-0123456789', ACCESS_TOKEN_TTL_SECONDS: '3600' },
      notificationsEnv: BENCH_NOTIFICATIONS_ENV,
      gatewayEnv: { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000' },
      serviceEnv: {
        agents: {
          AGENTS_MODEL_PROVIDERS: JSON.stringify({ fake: { baseUrl: openai.url, apiKey: 'bench', models: { '*': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, contextTokens: 8192 } } } }),
          AGENTS_DEFAULT_MODEL: 'fake/default',
          // Memory on, as deployments run it: every task recalls and records memories.
          AGENTS_EMBEDDING_MODEL: 'fake/embeddings',
          AGENTS_WORKSPACE_DIR: workspaces,
          AGENTS_TASK_CONCURRENCY: String(options.taskConcurrency),
          // Room for every running task plus requests and stream readers (the service refuses fewer than the tasks).
          DATABASE_POOL_MAX: String(options.taskConcurrency + 16),
          JOBS_POLL_INTERVAL_SECONDS: String(options.pollIntervalSeconds),
          // Every plan's four independent tasks wait on one agent at once: room for all of them.
          AGENTS_QUEUE_LIMIT: '100000',
        },
      },
    });
    try {
      const token = await createAccount(platform.gatewayUrl);
      const sequential = await sequentialPhase(platform, openai, token, options);
      const { concurrent, delivery, taskErrors } = await concurrentPhase(platform, token, options);
      const memory = await memoryPhase(platform, token, options);
      return {
        sequential,
        concurrent,
        delivery,
        memory,
        taskErrors,
        serviceProblems: loggedProblems(platform.services.agents.output()),
        machine: { cpus: os.cpus().length, loadBefore, loadAfter: os.loadavg()[0] },
        taskOutcomes: await taskOutcomes(platform.services.agents.metricsUrl),
        modelRequests: { total: openai.requests.length, failed: openai.requests.filter((request) => request.status >= 400).length },
      };
    } finally {
      await platform.stop();
    }
  } finally {
    await openai.close();
    await rm(workspaces, { recursive: true, force: true });
  }
}
