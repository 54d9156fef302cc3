import { randomUUID } from 'node:crypto';
import { lstat, mkdir, symlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { FakeOpenAI, FakeReply, connectRealtime, eventually, findTenantIsolationViolations, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { AGENT_WORKSPACES_DIR, PlatformOf, usePlatform } from './support/platforms';

interface RunEvent {
  seq: number;
  type: string;
  taskId: string | null;
  payload: Record<string, unknown>;
}

interface Task {
  key: string;
  status: string;
  result: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  agentId: string;
  agentVersion: number;
}

interface ToolCall {
  id: string;
  tool: string;
  risk: string;
  status: string;
  approvalClass: string;
  output: string | null;
  decidedBy: string | null;
  decisionNote: string | null;
}

interface Run {
  id: string;
  status: string;
  result: string | null;
  error: string | null;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  lastEventId: number;
  tasks: Task[];
  toolCalls: ToolCall[];
}

const RUN_FIELDS = `id status result error promptTokens completionTokens costUsd lastEventId
  tasks { key status result error startedAt finishedAt agentId agentVersion }
  toolCalls { id tool risk status approvalClass output decidedBy decisionNote }`;

const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** A tool call as a scripted model answer. */
const call = (name: string, args: object): FakeReply => ({ toolCalls: [{ name, arguments: args }] });

describe('agents through the gateway', () => {
  let platform: PlatformOf<'default'>;
  let openai: FakeOpenAI;

  beforeAll(async () => {
    platform = await usePlatform('default');
    openai = platform.openai;
  });



  /** A member with a tenant of their own, and helpers acting as them. */
  async function member(label = 'agents-user') {
    const account = await registerAccount(platform.gatewayUrl, label);
    const { accessToken: token, tenantId } = await createTenantFor(platform.gatewayUrl, account);
    const as = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });
    const raw = (query: string, variables: Record<string, unknown> = {}) => graphql(platform.gatewayUrl, query, { token, variables });
    const createAgent = async (input: Record<string, unknown>) =>
      (
        await as<{ createAgent: { agent: { id: string; version: number; model: string } } }>(
          `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id version model } } }`,
          { input: { name: `agent ${randomUUID().slice(0, 8)}`, ...input } },
        )
      ).createAgent.agent;
    const run = async (id: string) => (await as<{ agentRun: Run }>(`query($id: ID!) { agentRun(id: $id) { ${RUN_FIELDS} } }`, { id })).agentRun;
    const finished = (id: string, timeoutMs = 30_000) =>
      eventually(`run ${id} to finish`, async () => {
        const current = await run(id);
        return FINISHED.includes(current.status) ? current : undefined;
      }, timeoutMs);
    const events = async (runId: string, lastEventId = 0) =>
      (
        await as<{ agentRunEvents: RunEvent[] }>(
          `query($runId: ID!, $lastEventId: Int) { agentRunEvents(runId: $runId, lastEventId: $lastEventId, first: 1000) { seq type taskId payload } }`,
          { runId, lastEventId },
        )
      ).agentRunEvents;
    const start = async (agentId: string, prompt: string) =>
      (await as<{ startAgentRun: { run: { id: string } } }>(`mutation($input: StartAgentRunInput!) { startAgentRun(input: $input) { run { id } } }`, { input: { agentId, prompt } }))
        .startAgentRun.run.id;
    return { account, token, tenantId, as, raw, createAgent, run, finished, events, start };
  }

  /** A model name no other test scripts. */
  const modelName = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

  it('keeps agents with versions, lists models and tools, and refuses unknown models and tools with typed errors', async () => {
    const user = await member();
    const agent = await user.createAgent({ name: 'Researcher', model: 'fake/writer', tools: ['read_file'], concurrencyLimit: 3 });
    expect(agent).toMatchObject({ version: 1, model: 'fake/writer' });

    const updated = await user.as<{ updateAgent: { agent: { version: number; systemPrompt: string; versions: { version: number; config: { systemPrompt: string } }[] } } }>(
      `mutation($input: UpdateAgentInput!) { updateAgent(input: $input) { agent { version systemPrompt versions { version config } } } }`,
      { input: { id: agent.id, systemPrompt: 'Be brief.' } },
    );
    expect(updated.updateAgent.agent.version).toBe(2);
    expect(updated.updateAgent.agent.versions.map((version) => [version.version, version.config.systemPrompt])).toEqual([
      [2, 'Be brief.'],
      [1, ''],
    ]);

    const catalogue = await user.as<{ agentModels: { id: string; scripted: boolean }[]; agentTools: { name: string }[] }>('{ agentModels { id scripted } agentTools { name } }');
    expect(catalogue.agentModels).toContainEqual({ id: 'fake/*', scripted: false });
    expect(catalogue.agentTools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['read_file', 'write_file', 'list_directory', 'search_files', 'run_command']));

    const unknownModel = await user.raw(`mutation { createAgent(input: { name: "x", model: "nowhere/gpt" }) { agent { id } } }`);
    expect(unknownModel.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(unknownModel.errors?.[0]?.message).not.toMatch(/at |Error:/);
    const unknownTool = await user.raw(`mutation { createAgent(input: { name: "y", tools: ["format_disk"] }) { agent { id } } }`);
    expect(unknownTool.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const duplicate = await user.raw(`mutation { createAgent(input: { name: "researcher" }) { agent { id } } }`);
    expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
  });

  it('runs a direct request: streamed deltas, a low-risk tool call run automatically, tokens and cost per run and agent', async () => {
    const user = await member();
    const model = modelName('direct');
    openai.script(model, [
      { ...call('list_directory', { path: '.' }), usage: { promptTokens: 100, completionTokens: 10 } },
      { content: 'The workspace is empty, so there is nothing to summarise yet.', usage: { promptTokens: 200, completionTokens: 50 }, chunkDelayMs: 5 },
    ]);
    const agent = await user.createAgent({ model: `fake/${model}`, tools: ['list_directory'], systemPrompt: 'You summarise workspaces.' });
    const runId = await user.start(agent.id, 'Summarise my workspace');
    const done = await user.finished(runId);

    expect(done).toMatchObject({ status: 'COMPLETED', result: 'The workspace is empty, so there is nothing to summarise yet.', promptTokens: 300, completionTokens: 60 });
    expect(done.costUsd).toBeCloseTo((300 * 1 + 60 * 2) / 1e6, 9);
    expect(done.tasks).toEqual([expect.objectContaining({ key: 'answer', status: 'COMPLETED', agentVersion: 1 })]);
    expect(done.toolCalls).toEqual([expect.objectContaining({ tool: 'list_directory', risk: 'LOW', status: 'COMPLETED', decisionNote: 'auto', decidedBy: null })]);

    const log = await user.events(runId);
    const types = log.map((event) => event.type);
    expect(types[0]).toBe('run.created');
    expect(types).toEqual(expect.arrayContaining(['run.started', 'task.started', 'tool.call', 'tool.result', 'message.delta', 'message.completed', 'task.completed']));
    expect(types.at(-1)).toBe('run.completed');
    expect(log.map((event) => event.seq)).toEqual(log.map((_, index) => index + 1));
    const streamed = log.filter((event) => event.type === 'message.delta').map((event) => event.payload.text).join('');
    expect(streamed).toBe(done.result);

    // The model saw the system prompt, the request, and the tool's answer.
    const second = openai.requestsFor(model)[1].body.messages as { role: string; content: string }[];
    expect(second[0]).toMatchObject({ role: 'system', content: expect.stringContaining('You summarise workspaces.') });
    expect(second.find((message) => message.role === 'tool')).toBeDefined();

    const metrics = await user.as<{ agent: { status: string; metrics: { runs: number; finishedTasks: number; successRate: number; promptTokens: number; costUsd: number } } }>(
      `query($id: ID!) { agent(id: $id) { status metrics { runs finishedTasks successRate promptTokens costUsd } } }`,
      { id: agent.id },
    );
    expect(metrics.agent).toMatchObject({ status: 'READY', metrics: { runs: 1, finishedTasks: 1, successRate: 1, promptTokens: 300 } });
  });

  it('refuses a plan with a cycle (naming it) or an agent the caller cannot use, before anything runs', async () => {
    const user = await member();
    const stranger = await member('agents-stranger');
    const mine = await user.createAgent({ model: 'fake/unused' });
    const theirs = await stranger.createAgent({ model: 'fake/unused' });
    const cyclic = await user.raw(`mutation($input: CreateAgentPlanInput!) { createAgentPlan(input: $input) { run { id } } }`, {
      input: {
        request: 'cycle',
        tasks: [
          { key: 'draft', agentId: mine.id, prompt: 'draft', dependsOn: ['review'] },
          { key: 'review', agentId: mine.id, prompt: 'review', dependsOn: ['draft'] },
        ],
      },
    });
    expect(cyclic.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(cyclic.text).toMatch(/draft → review → draft/);
    const foreign = await user.raw(`mutation($input: CreateAgentPlanInput!) { createAgentPlan(input: $input) { run { id } } }`, {
      input: { request: 'foreign', tasks: [{ key: 'a', agentId: theirs.id, prompt: 'a' }] },
    });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const { agentRuns } = await user.as<{ agentRuns: { edges: unknown[] } }>('{ agentRuns { edges { node { id } } } }');
    expect(agentRuns.edges).toEqual([]);
  });

  it('previews, edits, dry-runs and approves a plan; independent tasks overlap, each agent keeps its concurrency, and a task gets its dependencies\u2019 results', async () => {
    const user = await member();
    const wide = modelName('wide');
    const narrow = modelName('narrow');
    const combiner = modelName('combine');
    openai.script(wide, [{ content: 'wide result', delayMs: 1500 }]);
    openai.script(narrow, [{ content: 'narrow result', delayMs: 1500 }]);
    openai.script(combiner, [{ content: 'combined' }]);
    const wideAgent = await user.createAgent({ model: `fake/${wide}`, concurrencyLimit: 2 });
    const narrowAgent = await user.createAgent({ model: `fake/${narrow}`, concurrencyLimit: 1 });
    const combineAgent = await user.createAgent({ model: `fake/${combiner}` });
    const tasks = [
      { key: 'w1', agentId: wideAgent.id, prompt: 'first wide' },
      { key: 'w2', agentId: wideAgent.id, prompt: 'second wide' },
      { key: 'n1', agentId: narrowAgent.id, prompt: 'first narrow' },
    ];
    const created = await user.as<{ createAgentPlan: { run: { id: string; status: string } } }>(
      `mutation($input: CreateAgentPlanInput!) { createAgentPlan(input: $input) { run { id status } } }`,
      { input: { request: 'collect and combine', tasks } },
    );
    const runId = created.createAgentPlan.run.id;
    expect(created.createAgentPlan.run.status).toBe('AWAITING_APPROVAL');

    await user.as(`mutation($input: UpdateAgentPlanInput!) { updateAgentPlan(input: $input) { run { id } } }`, {
      input: {
        runId,
        tasks: [
          ...tasks,
          { key: 'n2', agentId: narrowAgent.id, prompt: 'second narrow' },
          { key: 'combine', title: 'Combine', agentId: combineAgent.id, prompt: 'combine them', dependsOn: ['w1', 'w2', 'n1', 'n2'] },
        ],
      },
    });
    const dry = await user.as<{ dryRunAgentPlan: { waves: string[][]; estimatedTokens: number; estimatedDurationMs: number } }>(
      `query($id: ID!) { dryRunAgentPlan(runId: $id) { waves estimatedTokens estimatedDurationMs } }`,
      { id: runId },
    );
    expect(dry.dryRunAgentPlan.waves).toEqual([['n1', 'n2', 'w1', 'w2'], ['combine']]);
    expect(dry.dryRunAgentPlan.estimatedTokens).toBeGreaterThan(0);
    expect(openai.requestsFor(wide)).toHaveLength(0);

    await user.as(`mutation($id: ID!) { approveAgentPlan(runId: $id) { run { id } } }`, { id: runId });
    const done = await user.finished(runId, 60_000);
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'combined' });
    const span = (key: string) => {
      const task = done.tasks.find((candidate) => candidate.key === key) as Task;
      return [Date.parse(task.startedAt as string), Date.parse(task.finishedAt as string)];
    };
    const overlap = (a: string, b: string) => span(a)[0] < span(b)[1] && span(b)[0] < span(a)[1];
    expect(overlap('w1', 'w2')).toBe(true);
    expect(overlap('w1', 'n1') || overlap('w1', 'n2')).toBe(true);
    expect(overlap('n1', 'n2')).toBe(false);
    expect(span('combine')[0]).toBeGreaterThanOrEqual(Math.max(...['w1', 'w2', 'n1', 'n2'].map((key) => span(key)[1])));
    const combinePrompt = JSON.stringify(openai.requestsFor(combiner)[0].body.messages);
    expect(combinePrompt).toContain('wide result');
    expect(combinePrompt).toContain('narrow result');
  });

  it('lets the planner write the plan, and reports a failed task with what was skipped', async () => {
    const user = await member();
    const planner = modelName('planner');
    const worker = modelName('worker');
    const researcher = await user.createAgent({ model: `fake/${planner}`, description: 'Finds facts' });
    const writer = await user.createAgent({ model: `fake/${worker}`, description: 'Writes' });
    openai.script(planner, [
      {
        content: JSON.stringify({
          tasks: [
            { key: 'facts', agentId: writer.id, title: 'Facts', prompt: 'find facts', dependsOn: [] },
            { key: 'essay', agentId: researcher.id, title: 'Essay', prompt: 'write it', dependsOn: ['facts'] },
          ],
        }),
      },
    ]);
    openai.script(worker, [{ status: 400, error: 'the model refuses this request' }]);
    const planned = await user.as<{ planAgentRun: { run: { id: string; status: string } } }>(
      `mutation($input: PlanAgentRunInput!) { planAgentRun(input: $input) { run { id status } } }`,
      { input: { request: 'An essay with facts', agentIds: [researcher.id, writer.id], autoStart: true } },
    );
    expect(planned.planAgentRun.run.status).toBe('PLANNING');
    const done = await user.finished(planned.planAgentRun.run.id);
    expect(done.status).toBe('FAILED');
    expect(done.tasks.map((task) => [task.key, task.status])).toEqual([
      ['essay', 'SKIPPED'],
      ['facts', 'FAILED'],
    ]);
    expect(done.error).toMatch(/essay: skipped/);
    const plannerPrompt = JSON.stringify(openai.requestsFor(planner)[0].body.messages);
    expect(plannerPrompt).toContain(writer.id);
    const agent = await user.as<{ agent: { status: string; lastError: string } }>(`query($id: ID!) { agent(id: $id) { status lastError } }`, { id: writer.id });
    expect(agent.agent.status).toBe('ERROR');
  });

  it('rejects a high-risk call nobody decides once its deadline passes, warning first, and the run reports it', async () => {
    const user = await member();
    const model = modelName('risky');
    openai.script(model, [call('run_command', { command: 'node', args: ['--version'] }), { content: 'I could not run it.' }]);
    const agent = await user.createAgent({ model: `fake/${model}`, tools: ['run_command'] });
    const runId = await user.start(agent.id, 'Check the node version');
    const pending = await eventually('the call to wait for a decision', async () => {
      const { pendingApprovals } = await user.as<{ pendingApprovals: ToolCall[] }>(`query($id: ID) { pendingApprovals(runId: $id) { id tool risk status expiresAt } }`, { id: runId });
      return pendingApprovals[0];
    });
    expect(pending).toMatchObject({ tool: 'run_command', risk: 'HIGH', status: 'PENDING_APPROVAL' });
    const done = await user.finished(runId, 30_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.toolCalls).toEqual([expect.objectContaining({ status: 'EXPIRED', decidedBy: null, output: 'expired' })]);
    const types = (await user.events(runId)).map((event) => event.type);
    expect(types.indexOf('approval.requested')).toBeLessThan(types.indexOf('approval.expiring'));
    expect(types.indexOf('approval.expiring')).toBeLessThan(types.indexOf('approval.expired'));
    const answer = openai.requestsFor(model)[1].body.messages as { role: string; content: string }[];
    expect(answer.find((message) => message.role === 'tool')?.content).toMatch(/nobody approved/);
    const late = await user.raw(`mutation($id: ID!) { decideToolCall(input: { toolCallId: $id, approve: true }) { id } }`, { id: pending.id });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
  });

  it('approves a class of calls for the rest of a run, and keeps who decided', async () => {
    const user = await member();
    const model = modelName('writer');
    openai.script(model, [
      { toolCalls: [{ name: 'write_file', arguments: { path: 'notes/a.md', content: 'A' } }, { name: 'write_file', arguments: { path: 'notes/b.md', content: 'B' } }] },
      call('write_file', { path: 'notes/c.md', content: 'C' }),
      call('read_file', { path: 'notes/c.md' }),
      { content: 'written' },
    ]);
    const agent = await user.createAgent({ model: `fake/${model}`, tools: ['write_file', 'read_file'] });
    const runId = await user.start(agent.id, 'Write three notes');
    const pending = await eventually('two writes to wait', async () => {
      const { pendingApprovals } = await user.as<{ pendingApprovals: ToolCall[] }>(`query($id: ID) { pendingApprovals(runId: $id) { id approvalClass risk } }`, { id: runId });
      return pendingApprovals.length === 2 && pendingApprovals;
    });
    expect(pending.map((item) => [item.approvalClass, item.risk])).toEqual([
      ['write_file', 'MEDIUM'],
      ['write_file', 'MEDIUM'],
    ]);
    const approved = await user.as<{ approveToolCallClass: { id: string }[] }>(
      `mutation($input: ApproveToolCallClassInput!) { approveToolCallClass(input: $input) { id } }`,
      { input: { runId, approvalClass: 'write_file' } },
    );
    expect(approved.approveToolCallClass).toHaveLength(2);
    const done = await user.finished(runId);
    expect(done.status).toBe('COMPLETED');
    expect(done.toolCalls.map((item) => [item.tool, item.status, item.decisionNote, item.decidedBy])).toEqual([
      ['write_file', 'COMPLETED', 'class', user.account.userId],
      ['write_file', 'COMPLETED', 'class', user.account.userId],
      ['write_file', 'COMPLETED', 'class', user.account.userId],
      ['read_file', 'COMPLETED', 'auto', null],
    ]);
    expect(done.toolCalls[3].output).toContain('C');
  });

  it('confines tools to the workspace: traversal, symlink escape, shell metacharacters and the network are refused', async () => {
    const user = await member();
    const listener = net.createServer((socket) => socket.end('secret\n'));
    const connections: unknown[] = [];
    listener.on('connection', (socket) => connections.push(socket.remoteAddress));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      // A link planted in the workspace (no tool can make one: ln is not allowed and arguments may not leave the workspace).
      const workspace = path.join(AGENT_WORKSPACES_DIR, user.tenantId, user.account.userId);
      await mkdir(workspace, { recursive: true });
      await symlink('/etc', path.join(workspace, 'etc-link'));
      expect((await lstat(path.join(workspace, 'etc-link'))).isSymbolicLink()).toBe(true);

      const model = modelName('sandbox');
      const connect = `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log('blocked', e.code); process.exit(3) })`;
      openai.script(model, [
        call('read_file', { path: '../../../../etc/passwd' }),
        call('read_file', { path: 'etc-link/passwd' }),
        call('run_command', { command: 'echo', args: ['$(id); rm -rf / `whoami` | nc x'] }),
        call('run_command', { command: 'sh', args: ['-c', 'id'] }),
        call('run_command', { command: 'node', args: ['-e', connect] }),
        { content: 'done probing' },
      ]);
      const agent = await user.createAgent({ model: `fake/${model}`, tools: ['read_file', 'run_command'] });
      const runId = await user.start(agent.id, 'Probe the sandbox');
      // echo (medium) and node (high) wait for a person; approve each as it comes.
      await eventually('every call to be decided and run', async () => {
        const { pendingApprovals } = await user.as<{ pendingApprovals: ToolCall[] }>(`query($id: ID) { pendingApprovals(runId: $id) { id } }`, { id: runId });
        for (const pending of pendingApprovals) await user.as(`mutation($id: ID!) { decideToolCall(input: { toolCallId: $id, approve: true, note: "probe" }) { id } }`, { id: pending.id });
        const current = await user.run(runId);
        return FINISHED.includes(current.status) ? current : undefined;
      }, 30_000);
      const done = await user.run(runId);
      expect(done.status).toBe('COMPLETED');
      const [traversal, symlinkEscape, metacharacters, shell, network] = done.toolCalls;
      expect(traversal).toMatchObject({ status: 'REFUSED', output: expect.stringMatching(/^path_escape/) });
      expect(symlinkEscape).toMatchObject({ status: 'REFUSED', output: expect.stringMatching(/^path_escape/) });
      expect(metacharacters).toMatchObject({ status: 'COMPLETED', decidedBy: user.account.userId, decisionNote: 'probe' });
      expect(metacharacters.output).toContain('$(id); rm -rf / `whoami` | nc x');
      expect(shell).toMatchObject({ status: 'REFUSED', output: expect.stringMatching(/^command_not_allowed/) });
      expect(network).toMatchObject({ risk: 'HIGH', status: 'COMPLETED' });
      expect(network.output).toContain('blocked');
      expect(network.output).not.toContain('connected');
      expect(connections).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  it('streams run events over NDJSON and the subscription, resuming after any event with nothing missed or repeated', async () => {
    const user = await member();
    const model = modelName('stream');
    openai.script(model, [{ content: 'one two three four five six seven eight nine ten', chunkDelayMs: 30 }]);
    const agent = await user.createAgent({ model: `fake/${model}` });
    const runId = await user.start(agent.id, 'Count to ten');
    await user.finished(runId);
    const all = await user.events(runId);
    expect(all.length).toBeGreaterThan(5);
    const middle = all[Math.floor(all.length / 2)].seq;

    const ndjson = async (headers: Record<string, string>, query = '') => {
      const response = await fetch(`${platform.gatewayUrl.replace(/\/graphql$/, '')}/agents/runs/${runId}/events${query}`, { headers: { authorization: `Bearer ${user.token}`, ...headers } });
      expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
      return (await response.text())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { id: number; type: string })
        .filter((event) => event.type !== 'heartbeat');
    };
    const fromHeader = await ndjson({ 'last-event-id': String(middle) });
    expect(fromHeader.map((event) => event.id)).toEqual(all.filter((event) => event.seq > middle).map((event) => event.seq));
    const fromQuery = await ndjson({}, `?last_event_id=${middle}`);
    expect(fromQuery.map((event) => event.type)).toEqual(all.filter((event) => event.seq > middle).map((event) => event.type));
    expect((await ndjson({})).map((event) => event.id)).toEqual(all.map((event) => event.seq));

    const denied = await fetch(`${platform.gatewayUrl.replace(/\/graphql$/, '')}/agents/runs/${runId}/events`);
    expect(denied.status).toBe(401);
    const stranger = await member('agents-stream-stranger');
    const foreign = await fetch(`${platform.gatewayUrl.replace(/\/graphql$/, '')}/agents/runs/${runId}/events`, { headers: { authorization: `Bearer ${stranger.token}` } });
    expect(foreign.status).toBe(404);

    const live = connectRealtime(platform.realtimeUrl, { authorization: `Bearer ${user.token}` });
    try {
      const subscription = live.subscribe<{ runEvents: { seq: number; type: string } }>(
        `subscription($runId: ID!, $lastEventId: Int) { runEvents(runId: $runId, lastEventId: $lastEventId) { seq type } }`,
        { runId, lastEventId: middle },
      );
      const expected = all.filter((event) => event.seq > middle);
      const received = await subscription.waitForCount(expected.length, 15_000);
      expect(received.map((value) => value.runEvents.seq)).toEqual(expected.map((event) => event.seq));
    } finally {
      await live.dispose();
    }
  });

  it('follows a live run from its first event to its last over the subscription', async () => {
    const user = await member();
    const model = modelName('live');
    openai.script(model, [{ content: 'streaming slowly to a live follower', chunkDelayMs: 150, delayMs: 1000 }]);
    const agent = await user.createAgent({ model: `fake/${model}` });
    const live = connectRealtime(platform.realtimeUrl, { authorization: `Bearer ${user.token}` });
    try {
      const runId = await user.start(agent.id, 'Talk');
      const subscription = live.subscribe<{ runEvents: { seq: number; type: string } }>(`subscription($runId: ID!) { runEvents(runId: $runId) { seq type } }`, { runId });
      await user.finished(runId);
      const all = await user.events(runId);
      const received = await subscription.waitForCount(all.length, 15_000);
      expect(received.map((value) => value.runEvents.seq)).toEqual(all.map((event) => event.seq));
      expect(received.at(-1)?.runEvents.type).toBe('run.completed');
    } finally {
      await live.dispose();
    }
  });

  it('stops a run before a call would exceed the agent\u2019s token budget', async () => {
    const user = await member();
    const model = modelName('budget');
    openai.script(model, [{ ...call('list_directory', {}), usage: { promptTokens: 900, completionTokens: 50 } }, { content: 'never reached' }]);
    const agent = await user.createAgent({ model: `fake/${model}`, tools: ['list_directory'], tokenBudgetPerRun: 1000 });
    const runId = await user.start(agent.id, 'Spend');
    const done = await user.finished(runId);
    expect(done.status).toBe('FAILED');
    expect(done.tasks[0].error).toMatch(/budget exceeded/);
    expect(openai.requestsFor(model)).toHaveLength(1);
    expect((await user.events(runId)).map((event) => event.type)).toContain('budget.exceeded');
  });

  it('retries a transient model failure, and cancels a run on request', async () => {
    const user = await member();
    const flaky = modelName('flaky');
    openai.failNext(flaky, 3, 503);
    openai.script(flaky, [{ content: 'recovered' }]);
    const agent = await user.createAgent({ model: `fake/${flaky}` });
    const done = await user.finished(await user.start(agent.id, 'Try'));
    expect(done).toMatchObject({ status: 'COMPLETED', result: 'recovered' });
    expect((await user.events(done.id)).map((event) => event.type)).toContain('task.retrying');

    const slow = modelName('slow');
    openai.script(slow, [call('write_file', { path: 'x.md', content: 'x' })]);
    const waiting = await user.createAgent({ model: `fake/${slow}`, tools: ['write_file'] });
    const runId = await user.start(waiting.id, 'Wait for me');
    await eventually('the call to wait', async () => (await user.run(runId)).tasks[0].status === 'WAITING_APPROVAL');
    const cancelled = await user.as<{ cancelAgentRun: { run: { status: string } } }>(`mutation($id: ID!) { cancelAgentRun(runId: $id) { run { status } } }`, { id: runId });
    expect(cancelled.cancelAgentRun.run.status).toBe('CANCELLED');
    const after = await user.run(runId);
    expect(after.tasks[0].status).toBe('CANCELLED');
    expect(after.toolCalls[0].status).toBe('CANCELLED');
    const again = await user.raw(`mutation($id: ID!) { cancelAgentRun(runId: $id) { run { status } } }`, { id: runId });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
  });

  it('keeps every agent operation inside its tenant (the shared isolation probe)', async () => {
    const victim = await member('agents-victim');
    const intruder = await member('agents-intruder');
    const model = modelName('victim');
    openai.script(model, [call('write_file', { path: 'secret.md', content: 'B' })]);
    const agent = await victim.createAgent({ model: `fake/${model}`, tools: ['write_file'] });
    const runId = await victim.start(agent.id, 'Victim work');
    const pending = await eventually('the victim call to wait', async () => {
      const { pendingApprovals } = await victim.as<{ pendingApprovals: { id: string }[] }>(`query($id: ID) { pendingApprovals(runId: $id) { id } }`, { id: runId });
      return pendingApprovals[0]?.id;
    });
    const violations = await findTenantIsolationViolations([
      { name: 'agent', kind: 'byId', foreignIds: [agent.id], call: (id) => intruder.raw(`query($id: ID!) { agent(id: $id) { id } }`, { id }) },
      { name: 'updateAgent', kind: 'byId', foreignIds: [agent.id], call: (id) => intruder.raw(`mutation($id: ID!) { updateAgent(input: { id: $id, name: "mine" }) { agent { id } } }`, { id }) },
      { name: 'archiveAgent', kind: 'byId', foreignIds: [agent.id], call: (id) => intruder.raw(`mutation($id: ID!) { archiveAgent(id: $id) { agent { id } } }`, { id }) },
      { name: 'startAgentRun', kind: 'byId', foreignIds: [agent.id], call: (id) => intruder.raw(`mutation($id: ID!) { startAgentRun(input: { agentId: $id, prompt: "x" }) { run { id } } }`, { id }) },
      { name: 'agentRun', kind: 'byId', foreignIds: [runId], call: (id) => intruder.raw(`query($id: ID!) { agentRun(id: $id) { id } }`, { id }) },
      { name: 'agentRunEvents', kind: 'byId', foreignIds: [runId], call: (id) => intruder.raw(`query($id: ID!) { agentRunEvents(runId: $id) { seq } }`, { id }) },
      { name: 'dryRunAgentPlan', kind: 'byId', foreignIds: [runId], call: (id) => intruder.raw(`query($id: ID!) { dryRunAgentPlan(runId: $id) { waves } }`, { id }) },
      { name: 'approveAgentPlan', kind: 'byId', foreignIds: [runId], call: (id) => intruder.raw(`mutation($id: ID!) { approveAgentPlan(runId: $id) { run { id } } }`, { id }) },
      { name: 'cancelAgentRun', kind: 'byId', foreignIds: [runId], call: (id) => intruder.raw(`mutation($id: ID!) { cancelAgentRun(runId: $id) { run { id } } }`, { id }) },
      {
        name: 'approveToolCallClass',
        kind: 'byId',
        foreignIds: [runId],
        call: (id) => intruder.raw(`mutation($id: ID!) { approveToolCallClass(input: { runId: $id, approvalClass: "write_file" }) { id } }`, { id }),
      },
      { name: 'decideToolCall', kind: 'byId', foreignIds: [pending], call: (id) => intruder.raw(`mutation($id: ID!) { decideToolCall(input: { toolCallId: $id, approve: true }) { id } }`, { id }) },
      {
        name: 'createAgentPlan',
        kind: 'byId',
        foreignIds: [agent.id],
        call: (id) => intruder.raw(`mutation($id: ID!) { createAgentPlan(input: { request: "x", tasks: [{ key: "a", agentId: $id, prompt: "x" }] }) { run { id } } }`, { id }),
      },
      { name: 'agents', kind: 'list', foreignIds: [agent.id], call: () => intruder.raw('{ agents(allMembers: true) { edges { node { id } } } }'), ownerCall: () => victim.raw('{ agents { edges { node { id } } } }') },
      { name: 'agentRuns', kind: 'list', foreignIds: [runId], call: () => intruder.raw('{ agentRuns(allMembers: true) { edges { node { id } } } }'), ownerCall: () => victim.raw('{ agentRuns { edges { node { id } } } }') },
      { name: 'pendingApprovals', kind: 'list', foreignIds: [pending], call: () => intruder.raw('{ pendingApprovals { id } }'), ownerCall: () => victim.raw('{ pendingApprovals { id } }') },
    ]);
    // createAgentPlan and startAgentRun name a foreign agent: refused as unknown input, which leaks nothing either.
    expect(violations.filter((violation) => !/answered BAD_USER_INPUT/.test(violation.reason))).toEqual([]);
    expect((await victim.run(runId)).toolCalls[0].status).toBe('PENDING_APPROVAL');
  });

  it('remembers past interactions and given facts per member, recalls the closest into a task, filters, prunes, exports and forgets', async () => {
    const user = await member();
    const other = await member('agents-memory-other');
    const model = modelName('memory');
    openai.script(model, [{ content: 'Tom is a grey cat.' }]);
    const agent = await user.createAgent({ model: `fake/${model}` });
    const first = await user.finished(await user.start(agent.id, 'Describe my cat'));
    expect(first.status).toBe('COMPLETED');
    const remembered = await user.as<{ rememberForAgent: { id: string } }>(`mutation($input: RememberInput!) { rememberForAgent(input: $input) { id } }`, {
      input: { agentId: agent.id, content: 'The cat is called Tom', metadata: { topic: 'pets' } },
    });
    await eventually('the interaction to be remembered', async () => {
      const { agentMemories } = await user.as<{ agentMemories: { memory: { content: string } }[] }>(`query($id: ID!) { agentMemories(agentId: $id) { memory { content } } }`, { id: agent.id });
      return agentMemories.length === 2;
    });
    type Match = { memory: { id: string; content: string; metadata: Record<string, unknown> }; score: number | null };
    const search = async (variables: Record<string, unknown>) =>
      (await user.as<{ agentMemories: Match[] }>(`query($id: ID!, $q: String, $f: JSONObject) { agentMemories(agentId: $id, query: $q, filter: $f) { memory { id content metadata } score } }`, { id: agent.id, ...variables }))
        .agentMemories;
    const closest = await search({ q: 'The cat is called Tom' });
    expect(closest[0]).toMatchObject({ memory: { content: 'The cat is called Tom' } });
    expect(closest[0].score).toBeCloseTo(1, 4);
    expect(closest[1].memory.content).toBe('Asked: Describe my cat\nAnswered: Tom is a grey cat.');
    expect((await search({ f: { topic: 'pets' } })).map((match) => match.memory.content)).toEqual(['The cat is called Tom']);

    await user.finished(await user.start(agent.id, 'The cat is called Tom'));
    const recalled = JSON.stringify(openai.requestsFor(model).at(-1)?.body.messages);
    expect(recalled).toContain('What you remember of this member');
    expect(recalled).toContain('The cat is called Tom');

    const exported = await eventually('the second interaction to be remembered', async () => {
      const { exportAgentMemories } = await user.as<{ exportAgentMemories: { content: string }[] }>(`query($id: ID!) { exportAgentMemories(agentId: $id) { content } }`, { id: agent.id });
      return exportAgentMemories.length === 3 && exportAgentMemories;
    });
    expect(exported.map((memory) => memory.content).sort()).toEqual([
      'Asked: Describe my cat\nAnswered: Tom is a grey cat.',
      'Asked: The cat is called Tom\nAnswered: Tom is a grey cat.',
      'The cat is called Tom',
    ]);
    const pruned = await user.as<{ pruneAgentMemories: number }>(`mutation($input: PruneAgentMemoriesInput!) { pruneAgentMemories(input: $input) }`, { input: { agentId: agent.id, keepLatest: 1 } });
    expect(pruned.pruneAgentMemories).toBe(2);
    const [kept] = await search({});
    expect((await user.as<{ forgetAgentMemory: boolean }>(`mutation($id: ID!) { forgetAgentMemory(id: $id) }`, { id: kept.memory.id })).forgetAgentMemory).toBe(true);
    expect(await search({})).toEqual([]);
    expect((await other.raw(`query($id: ID!) { agentMemories(agentId: $id) { score } }`, { id: agent.id })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await user.as<{ forgetAgentMemory: boolean }>(`mutation($id: ID!) { forgetAgentMemory(id: $id) }`, { id: remembered.rememberForAgent.id })).forgetAgentMemory).toBe(false);
  });

  describe('chat sessions', () => {
    const SEND = `mutation($input: SendChatMessageInput!) { sendChatMessage(input: $input) { message { seq role } run { id status } } }`;

    it('answers messages one at a time in order, each turn seeing the earlier ones', async () => {
      const user = await member();
      const model = modelName('chat');
      let turn = 0;
      openai.script(model, [
        () => {
          turn += 1;
          // The first answer takes a while, so the second message arrives while it is being answered.
          return { content: `answer ${turn}`, delayMs: turn === 1 ? 1500 : 0 };
        },
      ]);
      const agent = await user.createAgent({ model: `fake/${model}` });
      const { createChatSession } = await user.as<{ createChatSession: { session: { id: string } } }>(
        `mutation($input: CreateChatSessionInput!) { createChatSession(input: $input) { session { id } } }`,
        { input: { title: 'Ordered', agentId: agent.id } },
      );
      const sessionId = createChatSession.session.id;
      type Sent = { sendChatMessage: { message: { seq: number }; run: { id: string; status: string } } };
      const first = await user.as<Sent>(SEND, { input: { sessionId, content: 'first question' } });
      // The second message arrives while the first is being answered.
      await eventually('the first answer to be under way', async () => (await user.run(first.sendChatMessage.run.id)).tasks[0].status === 'RUNNING', 30_000);
      const second = await user.as<Sent>(SEND, { input: { sessionId, content: 'second question' } });
      expect(first.sendChatMessage.message.seq).toBe(1);
      expect(second.sendChatMessage.run.status).toBe('WAITING_TURN');
      const [firstRun, secondRun] = [await user.finished(first.sendChatMessage.run.id), await user.finished(second.sendChatMessage.run.id)];
      expect(firstRun.result).toBe('answer 1');
      expect(secondRun.result).toBe('answer 2');
      expect(Date.parse(secondRun.tasks[0].startedAt as string)).toBeGreaterThanOrEqual(Date.parse(firstRun.tasks[0].finishedAt as string));
      const { chatSession } = await user.as<{ chatSession: { messages: { seq: number; role: string; content: string }[] } }>(
        `query($id: ID!) { chatSession(id: $id) { messages { seq role content } } }`,
        { id: sessionId },
      );
      expect(chatSession.messages.map((message) => [message.seq, message.role, message.content])).toEqual([
        [1, 'USER', 'first question'],
        [2, 'USER', 'second question'],
        [3, 'ASSISTANT', 'answer 1'],
        [4, 'ASSISTANT', 'answer 2'],
      ]);
      const secondPrompt = openai.requestsFor(model)[1].body.messages as { role: string; content: string }[];
      expect(secondPrompt.map((message) => message.content)).toEqual(expect.arrayContaining(['first question', 'answer 1', 'second question']));
    });

    it('summarises older turns that no longer fit the context window', async () => {
      const user = await member();
      const model = modelName('long-chat');
      openai.script(model, [
        (request) => {
          const system = String((request.messages[0] as { content?: unknown }).content ?? '');
          return { content: system.startsWith('Summarise') ? 'SUMMARY: the user asked about apples, pears and plums' : 'ok' };
        },
      ]);
      const agent = await user.createAgent({ model: `fake/${model}` });
      const { createChatSession } = await user.as<{ createChatSession: { session: { id: string } } }>(
        `mutation($input: CreateChatSessionInput!) { createChatSession(input: $input) { session { id } } }`,
        { input: { agentId: agent.id } },
      );
      const sessionId = createChatSession.session.id;
      // 8192-token window, half for history: three 6 000-character messages (about 1 500 tokens each) no longer fit with a fourth.
      for (const fruit of ['apples', 'pears', 'plums', 'cherries']) {
        const sent = await user.as<{ sendChatMessage: { run: { id: string } } }>(SEND, { input: { sessionId, content: `${fruit} `.repeat(1000) } });
        expect((await user.finished(sent.sendChatMessage.run.id)).status).toBe('COMPLETED');
      }
      const { chatSession } = await user.as<{ chatSession: { summary: string; summarizedThrough: number } }>(`query($id: ID!) { chatSession(id: $id) { summary summarizedThrough } }`, {
        id: sessionId,
      });
      expect(chatSession.summary).toBe('SUMMARY: the user asked about apples, pears and plums');
      expect(chatSession.summarizedThrough).toBeGreaterThan(0);
      const last = openai.requestsFor(model).at(-1)?.body.messages as { role: string; content: string }[];
      // Recalled memories (stored after earlier runs, whenever their events are handled) may come first.
      expect(last).toContainEqual({ role: 'system', content: expect.stringContaining('SUMMARY: the user asked about apples') });
      expect(JSON.stringify(last).length).toBeLessThan(8192 * 4);
    });

    it('answers an ORCHESTRATED message with a plan over the caller\u2019s agents', async () => {
      const user = await member();
      const model = modelName('chat-planner');
      const agent = await user.createAgent({ model: `fake/${model}` });
      openai.script(model, [
        (request) =>
          String((request.messages[0] as { content?: unknown }).content ?? '').startsWith('MULTIPULT-PLANNER')
            ? { content: JSON.stringify({ tasks: [{ key: 'only', agentId: agent.id, prompt: 'do it' }] }) }
            : { content: 'planned answer' },
      ]);
      const { createChatSession } = await user.as<{ createChatSession: { session: { id: string } } }>(
        `mutation($input: CreateChatSessionInput!) { createChatSession(input: $input) { session { id } } }`,
        { input: {} },
      );
      const sent = await user.as<{ sendChatMessage: { run: { id: string; status: string } } }>(SEND, {
        input: { sessionId: createChatSession.session.id, content: 'plan this', mode: 'ORCHESTRATED' },
      });
      expect(sent.sendChatMessage.run.status).toBe('PLANNING');
      expect((await user.finished(sent.sendChatMessage.run.id)).result).toBe('planned answer');
      const direct = await user.raw(SEND, { input: { sessionId: createChatSession.session.id, content: 'no agent named' } });
      expect(direct.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    });
  });
});
