import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { workspaceRoot } from '@multipult/testing';

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
