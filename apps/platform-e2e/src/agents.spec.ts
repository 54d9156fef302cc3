import { randomUUID } from 'node:crypto';
import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateAgentInput!) {
    createAgent(input: $input) { agent { id name ownerId createdAt } }
  }
`;

describe('agents service through the gateway', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  async function tenantAdmin(): Promise<{ userId: string; headers: Record<string, string> }> {
    const account = await registerAccount(platform.gatewayUrl, 'agents-admin');
    const { accessToken } = await createTenantFor(platform.gatewayUrl, account);
    return { userId: account.userId, headers: { authorization: `Bearer ${accessToken}` } };
  }

  it('creates an agent and reads it back in the same tenant only', async () => {
    const admin = await tenantAdmin();
    const name = `first ${randomUUID()}`;
    const created = await graphqlData<{ createAgent: { agent: { id: string; name: string; ownerId: string } } }>(
      platform.gatewayUrl,
      CREATE,
      { variables: { input: { name } }, headers: admin.headers },
    );
    const { id } = created.createAgent.agent;
    expect(created.createAgent.agent).toMatchObject({ name, ownerId: admin.userId });

    const query = `query One($id: ID!) { agent(id: $id) { id name } }`;
    const read = await graphqlData<{ agent: { id: string; name: string } | null }>(platform.gatewayUrl, query, {
      variables: { id },
      headers: admin.headers,
    });
    expect(read.agent).toEqual({ id, name });

    const stranger = await tenantAdmin();
    const foreign = await graphqlData<{ agent: null }>(platform.gatewayUrl, query, { variables: { id }, headers: stranger.headers });
    expect(foreign.agent).toBeNull();
  });

  it('lists the tenant\'s agents newest first, a cursor page at a time', async () => {
    const admin = await tenantAdmin();
    for (const name of ['older', 'newer']) {
      await graphqlData(platform.gatewayUrl, CREATE, { variables: { input: { name } }, headers: admin.headers });
    }
    const page = `query Page($after: String) { agents(first: 1, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { agents: { totalCount: number; edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const first = await graphqlData<Page>(platform.gatewayUrl, page, { headers: admin.headers });
    expect(first.agents).toMatchObject({ totalCount: 2, edges: [{ node: { name: 'newer' } }], pageInfo: { hasNextPage: true } });
    const second = await graphqlData<Page>(platform.gatewayUrl, page, {
      variables: { after: first.agents.pageInfo.endCursor },
      headers: admin.headers,
    });
    expect(second.agents).toMatchObject({ edges: [{ node: { name: 'older' } }], pageInfo: { hasNextPage: false } });
    const crafted = await graphql(platform.gatewayUrl, page, { variables: { after: 'bm90LWEtY3Vyc29y' }, headers: admin.headers });
    expect(crafted.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('counts creations from its events, through Kafka', async () => {
    const admin = await tenantAdmin();
    for (const name of ['one', 'two']) {
      await graphqlData(platform.gatewayUrl, CREATE, { variables: { input: { name } }, headers: admin.headers });
    }
    const counted = await eventually('both creations to be counted', async () => {
      const data = await graphqlData<{ agentCreatedCount: number }>(platform.gatewayUrl, '{ agentCreatedCount }', {
        headers: admin.headers,
      });
      return data.agentCreatedCount >= 2 && data.agentCreatedCount;
    });
    expect(counted).toBe(2);
  });

  it('refuses a duplicate name with CONFLICT, bad input with BAD_USER_INPUT and anonymous callers with UNAUTHENTICATED', async () => {
    const admin = await tenantAdmin();
    await graphqlData(platform.gatewayUrl, CREATE, { variables: { input: { name: 'same' } }, headers: admin.headers });
    const duplicate = await graphql(platform.gatewayUrl, CREATE, { variables: { input: { name: 'same' } }, headers: admin.headers });
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const empty = await graphql(platform.gatewayUrl, CREATE, { variables: { input: { name: '' } }, headers: admin.headers });
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const anonymous = await graphql(platform.gatewayUrl, CREATE, { variables: { input: { name: 'x' } } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
