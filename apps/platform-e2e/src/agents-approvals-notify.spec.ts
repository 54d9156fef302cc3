import { randomUUID } from 'node:crypto';
import { eventually, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { inbox } from './support/notifications';
import { PlatformOf, usePlatform } from './support/platforms';

describe('approval notifications through the gateway', () => {
  let platform: PlatformOf<'default'>;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  it('tells the member a call waits for their decision, then warns before its deadline, in the inbox and by email', async () => {
    const account = await registerAccount(platform.gatewayUrl, 'approver');
    const { accessToken: token, tenantId } = await createTenantFor(platform.gatewayUrl, account);
    const as = <T>(query: string, variables: Record<string, unknown>) => graphqlData<T>(platform.gatewayUrl, query, { token, variables });

    const model = `approve-notify-${randomUUID().slice(0, 8)}`;
    platform.openai.script(model, [{ toolCalls: [{ name: 'write_file', arguments: { path: 'a.md', content: 'x' } }] }, { content: 'Nobody approved the write.' }]);
    const agentName = `Scribe ${randomUUID().slice(0, 8)}`;
    const { createAgent } = await as<{ createAgent: { agent: { id: string } } }>(
      `mutation($input: CreateAgentInput!) { createAgent(input: $input) { agent { id } } }`,
      { input: { name: agentName, model: `fake/${model}`, tools: ['write_file'] } },
    );
    const { startAgentRun } = await as<{ startAgentRun: { run: { id: string } } }>(
      `mutation($input: StartAgentRunInput!) { startAgentRun(input: $input) { run { id } } }`,
      { input: { agentId: createAgent.agent.id, prompt: 'Write a note' } },
    );
    const runId = startAgentRun.run.id;
    const pending = await eventually('the write to wait for a decision', async () => {
      const { pendingApprovals } = await as<{ pendingApprovals: { id: string; risk: string }[] }>(`query($id: ID) { pendingApprovals(runId: $id) { id risk } }`, { id: runId });
      return pendingApprovals[0];
    });
    expect(pending.risk).toBe('MEDIUM');
    const link = `/agents/runs/${runId}?toolCall=${pending.id}`;

    for (const [type, subject] of [
      ['approval_requested', `Approval needed: ${agentName} asks to run write_file`],
      ['approval_expiring', `Reminder: ${agentName} is still waiting for your approval`],
    ]) {
      const notification = await eventually(`the ${type} notification`, async () => (await inbox(platform.gatewayUrl, token, { types: [type] })).nodes[0], 20_000);
      expect(notification).toMatchObject({ type, read: false });
      expect(notification.title).toContain(agentName);
      expect(notification.link).toContain(link);

      const email = await platform.smtp.waitFor((message) => message.to.includes(account.email) && message.subject === subject, 20_000);
      expect(email.text).toContain('write_file {"path":"a.md","content":"x"}');
      expect(email.text).toContain(link);
    }
    const { notifications } = await as<{ notifications: { edges: { node: { tenantId: string } }[] } }>(
      `query($types: [String!]) { notifications(types: $types) { edges { node { tenantId } } } }`,
      { types: ['approval_requested', 'approval_expiring'] },
    );
    expect(notifications.edges.map((edge) => edge.node.tenantId)).toEqual([tenantId, tenantId]);
  });
});
