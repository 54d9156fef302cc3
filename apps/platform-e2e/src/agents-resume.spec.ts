import { randomUUID } from 'node:crypto';
import { eventually, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { PlatformOf, usePlatform } from './support/platforms';

/**
 * A run survives its worker: the agents service is killed (SIGKILL, no shutdown hooks) while the
 * second task of a two-task plan streams its answer, and a new instance takes its place. The
 * task's lease lapses, the recovery pass hands it to the new instance, and the run finishes with
 * each task completed exactly once; the first task, completed before the kill, is not run again.
 * A plan the killed instance was writing (its planner's answer held) is written again on the new
 * instance once its job's heartbeat lapsed, not at its attempt timeout.
 * On the 'worker-resume' platform: it kills that platform's only agents instance.
 */
describe('an agent run whose service is killed mid-run', () => {
  let platform: PlatformOf<'worker-resume'>;

  beforeAll(async () => {
    platform = await usePlatform('worker-resume');
  });

  it('resumes on a new instance with no task run twice to completion, and writes again a plan the killed instance was writing', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'agents-resume');
    const { accessToken: token } = await createTenantFor(platform.gatewayUrl, account);
    const as = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });
    const first = `first-${randomUUID().slice(0, 8)}`;
    const second = `second-${randomUUID().slice(0, 8)}`;
    platform.openai.script(first, [{ content: 'facts gathered' }]);
    // Slow enough to be caught mid-answer: 20 chunks 300 ms apart.
    platform.openai.script(second, [{ content: Array.from({ length: 20 }, (_, index) => `word${index}`).join(' '), chunkDelayMs: 300 }]);
    const agent = async (model: string) =>
      (
        await as<{ createAgent: { agent: { id: string } } }>(`mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`, {
          input: { name: model, model: `fake/${model}` },
        })
      ).createAgent.agent.id;
    const [gatherer, writer] = [await agent(first), await agent(second)];
    const planner = `planner-${randomUUID().slice(0, 8)}`;
    const plannerAgent = await agent(planner);
    const plan = JSON.stringify({ tasks: [{ key: 'only', agentId: plannerAgent, title: 'Only', prompt: 'do it', dependsOn: [] }] });
    let plannerAsked = 0;
    // The killed instance's planner call gets no answer before the kill; the next one is answered at once.
    platform.openai.script(planner, [() => (++plannerAsked === 1 ? { content: plan, delayMs: 60_000 } : { content: plan })]);
    const planning = await as<{ planAgentRun: { run: { id: string } } }>(`mutation($input: PlanAgentRunInput!) { planAgentRun(input: $input) { run { id } } }`, {
      input: { request: 'plan it', agentIds: [plannerAgent] },
    });
    await eventually('the planner asked', () => plannerAsked === 1 || undefined, 30_000);
    const created = await as<{ createAgentPlan: { run: { id: string } } }>(
      `mutation($input: CreateAgentPlanInput!) { createAgentPlan(input: $input) { run { id } } }`,
      {
        input: {
          request: 'gather, then write',
          autoStart: true,
          tasks: [
            { key: 'gather', agentId: gatherer, prompt: 'gather facts' },
            { key: 'write', agentId: writer, prompt: 'write it up', dependsOn: ['gather'] },
          ],
        },
      },
    );
    const runId = created.createAgentPlan.run.id;
    const events = async () =>
      (
        await as<{ agentRunEvents: { seq: number; type: string; taskId: string | null; payload: { key?: string } }[] }>(
          `query($id: ID!) { agentRunEvents(runId: $id, first: 1000) { seq type taskId payload } }`,
          { id: runId },
        )
      )
        .agentRunEvents;

    await eventually(
      'the second task to stream its answer',
      async () => {
        const log = await events();
        const writing = log.find((event) => event.type === 'task.started' && event.payload.key === 'write')?.taskId;
        return log.some((event) => event.type === 'message.delta' && event.taskId === writing);
      },
      30_000,
    );
    const killed = platform.services.agents;
    killed.kill();
    await eventually('the killed instance is gone', async () => (await fetch(`${killed.url}/health/live`).then(() => false, () => true)) || undefined, 10_000);
    await platform.startServiceInstance('agents', {}, killed.port);

    const done = await eventually(
      'the run finished on the new instance',
      async () => {
        const { agentRun } = await as<{ agentRun: { status: string; result: string; tasks: { key: string; status: string }[] } }>(
          `query($id: ID!) { agentRun(id: $id) { status result tasks { key status } } }`,
          { id: runId },
        );
        return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(agentRun.status) ? agentRun : undefined;
      },
      60_000,
    );
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toBe(Array.from({ length: 20 }, (_, index) => `word${index}`).join(' '));
    const log = await events();
    const completed = log.filter((event) => event.type === 'task.completed').map((event) => event.payload.key);
    expect(completed.sort()).toEqual(['gather', 'write']);
    expect(log.map((event) => event.type)).toContain('task.resumed');
    expect(log.map((event) => event.seq)).toEqual(log.map((_, index) => index + 1));
    expect(platform.openai.requestsFor(first)).toHaveLength(1);
    // The answer cut off by the kill was never stored: the new instance asked again, and stored one answer.
    expect(log.filter((event) => event.type === 'message.completed')).toHaveLength(2);

    const planned = await eventually(
      'the plan written on the new instance',
      async () => {
        const { agentRun } = await as<{ agentRun: { status: string; tasks: { key: string }[] } }>(`query($id: ID!) { agentRun(id: $id) { status tasks { key } } }`, {
          id: planning.planAgentRun.run.id,
        });
        return agentRun.status === 'AWAITING_APPROVAL' ? agentRun : undefined;
      },
      60_000,
    );
    expect(planned.tasks.map((task) => task.key)).toEqual(['only']);
    expect(plannerAsked).toBe(2);
  });

  it('refuses work beyond a full agent queue with RATE_LIMITED, and takes it again once the queue drains', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'agents-backpressure');
    const { accessToken: token } = await createTenantFor(platform.gatewayUrl, account);
    const model = `busy-${randomUUID().slice(0, 8)}`;
    platform.openai.script(model, [{ content: 'done', delayMs: 1500 }]);
    const created = await graphqlData<{ createAgent: { agent: { id: string } } }>(
      platform.gatewayUrl,
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
      { token, variables: { input: { name: model, model: `fake/${model}`, concurrencyLimit: 1 } } },
    );
    const start = () =>
      graphql<{ startAgentRun: { run: { id: string } } }>(platform.gatewayUrl, `mutation($input: StartAgentRunInput!) { startAgentRun(input: $input) { run { id } } }`, {
        token,
        variables: { input: { agentId: created.createAgent.agent.id, prompt: 'work' } },
      });
    // One running, two waiting: the queue (AGENTS_QUEUE_LIMIT=2 on this platform) is full. The first run's
    // task must have left the queue before the others come: on a loaded machine it may still wait there.
    const first = await start();
    expect(first.errors).toBeUndefined();
    await eventually('the first run to take its slot', async () => {
      const { agentRun } = await graphqlData<{ agentRun: { tasks: { status: string }[] } }>(platform.gatewayUrl, `query($id: ID!) { agentRun(id: $id) { tasks { status } } }`, {
        token,
        variables: { id: first.data?.startAgentRun.run.id },
      });
      return agentRun.tasks.some((task) => task.status === 'RUNNING') || undefined;
    });
    const accepted = [await start(), await start()];
    expect(accepted.map((result) => result.errors)).toEqual([undefined, undefined]);
    const refused = await start();
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    await eventually(
      'the queue to drain',
      async () => {
        const again = await start();
        return again.errors === undefined;
      },
      30_000,
    );
  });
});
