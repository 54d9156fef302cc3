import { randomUUID } from 'node:crypto';
import { Platform, eventually, graphql, graphqlData } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';
import { usePlatform } from './support/platforms';

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateExportInput!) {
    createExport(input: $input) { export { id name ownerId createdAt } }
  }
`;

describe('export service through the gateway', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  async function tenantAdmin(): Promise<{ userId: string; headers: Record<string, string> }> {
    const account = await registerAccount(platform.gatewayUrl, 'export-admin');
    const { accessToken } = await createTenantFor(platform.gatewayUrl, account);
    return { userId: account.userId, headers: { authorization: `Bearer ${accessToken}` } };
  }

  it('creates an export and reads it back in the same tenant only', async () => {
    const admin = await tenantAdmin();
    const name = `first ${randomUUID()}`;
    const created = await graphqlData<{ createExport: { export: { id: string; name: string; ownerId: string } } }>(
      platform.gatewayUrl,
      CREATE,
      { variables: { input: { name } }, headers: admin.headers },
    );
    const { id } = created.createExport.export;
    expect(created.createExport.export).toMatchObject({ name, ownerId: admin.userId });

    const query = `query One($id: ID!) { export(id: $id) { id name } }`;
    const read = await graphqlData<{ export: { id: string; name: string } | null }>(platform.gatewayUrl, query, {
      variables: { id },
      headers: admin.headers,
    });
    expect(read.export).toEqual({ id, name });

    const stranger = await tenantAdmin();
    const foreign = await graphqlData<{ export: null }>(platform.gatewayUrl, query, { variables: { id }, headers: stranger.headers });
    expect(foreign.export).toBeNull();
  });

  it('lists the tenant\'s exports newest first, a cursor page at a time', async () => {
    const admin = await tenantAdmin();
    for (const name of ['older', 'newer']) {
      await graphqlData(platform.gatewayUrl, CREATE, { variables: { input: { name } }, headers: admin.headers });
    }
    const page = `query Page($after: String) { exports(first: 1, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { exports: { totalCount: number; edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const first = await graphqlData<Page>(platform.gatewayUrl, page, { headers: admin.headers });
    expect(first.exports).toMatchObject({ totalCount: 2, edges: [{ node: { name: 'newer' } }], pageInfo: { hasNextPage: true } });
    const second = await graphqlData<Page>(platform.gatewayUrl, page, {
      variables: { after: first.exports.pageInfo.endCursor },
      headers: admin.headers,
    });
    expect(second.exports).toMatchObject({ edges: [{ node: { name: 'older' } }], pageInfo: { hasNextPage: false } });
    const crafted = await graphql(platform.gatewayUrl, page, { variables: { after: 'bm90LWEtY3Vyc29y' }, headers: admin.headers });
    expect(crafted.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('counts creations from its events, through Kafka', async () => {
    const admin = await tenantAdmin();
    for (const name of ['one', 'two']) {
      await graphqlData(platform.gatewayUrl, CREATE, { variables: { input: { name } }, headers: admin.headers });
    }
    const counted = await eventually('both creations to be counted', async () => {
      const data = await graphqlData<{ exportCreatedCount: number }>(platform.gatewayUrl, '{ exportCreatedCount }', {
        headers: admin.headers,
      });
      return data.exportCreatedCount >= 2 && data.exportCreatedCount;
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
