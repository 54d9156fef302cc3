import { randomUUID } from 'node:crypto';
import { graphqlData } from '@multipult/testing';

export const PASSWORD = 'correct horse 9 battery';

export interface Account {
  userId: string;
  email: string;
  accessToken: string;
  refreshToken: string;
}

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken expiresIn user { id email displayName } }
  }
`;

export async function registerAccount(
  gatewayUrl: string,
  name = 'user',
  headers: Record<string, string> = {},
): Promise<Account> {
  const email = `${name}-${randomUUID()}@example.com`;
  const data = await graphqlData<{
    register: { accessToken: string; refreshToken: string; user: { id: string } };
  }>(gatewayUrl, REGISTER, { variables: { input: { email, password: PASSWORD, displayName: name } }, headers });
  return {
    userId: data.register.user.id,
    email,
    accessToken: data.register.accessToken,
    refreshToken: data.register.refreshToken,
  };
}

/** Creates a tenant as the account's admin and returns an access token acting in it. */
export async function createTenantFor(
  gatewayUrl: string,
  account: Account,
  slug = `t-${randomUUID().slice(0, 8)}`,
): Promise<{ tenantId: string; accessToken: string }> {
  const created = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
    gatewayUrl,
    `mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id slug } membership { role { name } } } }`,
    { token: account.accessToken, variables: { input: { name: `Tenant ${slug}`, slug } } },
  );
  const tenantId = created.createTenant.tenant.id;
  const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
    gatewayUrl,
    `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken tenant { id } } }`,
    { token: account.accessToken, variables: { input: { tenantId } } },
  );
  return { tenantId, accessToken: switched.switchTenant.accessToken };
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** A new account added by a tenant admin with `role`, with an access token acting in that tenant. */
export async function addTenantMember(
  gatewayUrl: string,
  tenant: { token: string; tenantId: string },
  name: string,
  role: string,
): Promise<Account & { token: string }> {
  const account = await registerAccount(gatewayUrl, name);
  await graphqlData(gatewayUrl, `mutation($input: AddTenantMemberInput!) { addTenantMember(input: $input) { membership { role { name } } } }`, {
    token: tenant.token,
    variables: { input: { email: account.email, role } },
  });
  const switched = await graphqlData<{ switchTenant: { accessToken: string } }>(
    gatewayUrl,
    `mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }`,
    { token: account.accessToken, variables: { input: { tenantId: tenant.tenantId } } },
  );
  return { ...account, token: switched.switchTenant.accessToken };
}
