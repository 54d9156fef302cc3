import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { graphql, graphqlData, workspaceRoot } from '@multipult/testing';

interface Infrastructure {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The same real servers the tests use (tools/testing), started where the environment names none. */
export async function ensureInfrastructure(): Promise<Infrastructure> {
  const module = (await import(pathToFileURL(path.join(workspaceRoot(), 'tools/testing/infrastructure.mjs')).href)) as {
    ensureInfrastructure(): Promise<Infrastructure>;
  };
  const infrastructure = await module.ensureInfrastructure();
  Object.assign(process.env, infrastructure.env);
  return infrastructure;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * A new account owning a new tenant with `documents` articles ("<title> 1", "<title> 2", …), and
 * its token for that tenant: what authenticated queries of a benchmark run with.
 */
export async function tenantOwnerWithDocuments(gatewayUrl: string, label: string, documents: number, title: string): Promise<string> {
  const { register } = await graphqlData<{ register: { accessToken: string } }>(
    gatewayUrl,
    `mutation { register(input: { email: "bench-${Date.now()}@example.com", password: "a long bench passphrase 1", displayName: "Bench" }) { accessToken } }`,
  );
  const { createTenant } = await graphqlData<{ createTenant: { tenant: { id: string } } }>(
    gatewayUrl,
    'mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } } }',
    { token: register.accessToken, variables: { input: { name: `Bench ${label}`, slug: `bench-${label}-${Date.now()}` } } },
  );
  const { switchTenant } = await graphqlData<{ switchTenant: { accessToken: string } }>(
    gatewayUrl,
    'mutation($input: SwitchTenantInput!) { switchTenant(input: $input) { accessToken } }',
    { token: register.accessToken, variables: { input: { tenantId: createTenant.tenant.id } } },
  );
  const token = switchTenant.accessToken;
  for (let index = 1; index <= documents; index++) {
    await graphqlData(gatewayUrl, 'mutation($input: CreateDocumentInput!) { createDocument(input: $input) { document { id } } }', {
      token,
      variables: { input: { title: `${title} ${index}`, body: `Body of ${title.toLowerCase()} ${index}.`, type: 'ARTICLE', language: 'en' } },
    });
  }
  return token;
}

/**
 * Every target answers every query with the same data and no errors, or nothing is measured: a
 * benchmark of a server that answers errors is worthless.
 */
export async function expectSameAnswers(targets: { target: string; url: string }[], queries: { name: string; query: string; token?: string }[]): Promise<void> {
  for (const query of queries) {
    const answers = await Promise.all(
      targets.map(async ({ target, url }) => {
        const result = await graphql(url, query.query, query.token ? { token: query.token } : {});
        if (result.status !== 200 || result.errors?.length || !result.data) {
          throw new Error(`${target} answers ${query.name} with ${result.status}: ${result.text.slice(0, 2000)}`);
        }
        return { target, data: result.data };
      }),
    );
    const [reference, ...others] = answers;
    for (const other of others) {
      if (!isDeepStrictEqual(other.data, reference.data)) {
        throw new Error(`${query.name}: ${other.target} answers ${JSON.stringify(other.data).slice(0, 1000)}, ${reference.target} ${JSON.stringify(reference.data).slice(0, 1000)}`);
      }
    }
  }
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Every service in production mode, quiet, with the secrets production requires (seal keys, internal secret, link secret). */
export const BENCH_PRODUCTION_ENV = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  EMAIL_TOKEN_SEAL_KEY: 'benchmark-email-token-seal-key-0123456789',
  INTERNAL_API_SECRET: 'benchmark-internal-api-secret-0123456789',
  // Each service signs its own links (the audience names it); one value serves them all here.
  FILE_LINK_SECRET: 'benchmark-file-link-secret-0123456789',
  JIRA_TOKEN_SEAL_KEY: 'benchmark-jira-token-seal-key-0123456789',
  // The agents service starts in production only with a model endpoint; benches other than agents never call it.
  AGENTS_MODEL_PROVIDERS: JSON.stringify({ unused: { baseUrl: 'http://127.0.0.1:9/v1', models: { '*': {} } } }),
  AGENTS_DEFAULT_MODEL: 'unused/none',
  // BENCH_SERVICE_ENV: more variables for every service, as JSON, to measure a setting against its default
  // (e.g. '{"GRAPHQL_FAST_PATH":"false"}').
  ...(JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}') as Record<string, string>),
};

/**
 * What the notifications service needs to start in production mode without real mail: an SMTP
 * address nothing listens on (one attempt, then the email is marked failed) and a webhook key.
 */
export const BENCH_NOTIFICATIONS_ENV = {
  SMTP_URL: 'smtp://127.0.0.1:9',
  EMAIL_MAX_ATTEMPTS: '1',
  WEBHOOK_SECRET_KEY: 'benchmark-webhook-secret-key-0123456789',
};
