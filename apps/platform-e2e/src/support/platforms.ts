import os from 'node:os';
import path from 'node:path';
import {
  FakeJira,
  FakeOpenAI,
  LocalOidcProvider,
  OpenSearchNode,
  Platform,
  SmtpCapture,
  startFakeJira,
  startFakeOpenAI,
  startOidcProvider,
  startOpenSearchNode,
  startPlatform,
  startSmtpCapture,
  usePooledPlatform,
  withLocalServers,
} from '@multipult/testing';

/** The fake JIRA's pace per account, as JIRA Cloud limits a site (export.spec sends bulk requests at it). */
export const JIRA_REQUESTS_PER_SECOND = 20;

/** A fake JIRA or OpenAI-compatible server as a pooled platform's local server (the pool stops servers with stop()). */
const stoppable = <T extends FakeJira | FakeOpenAI>(server: T) => Object.assign(server, { stop: () => server.close() });

/** Where agents' per-user workspaces are on every platform (tenant and user ids keep tests apart), so a test can plant a file in one. */
export const AGENT_WORKSPACES_DIR = path.join(os.tmpdir(), 'multipult-e2e-agent-workspaces');

/**
 * The agents service's models on a platform: any model name on the local OpenAI-compatible
 * server (tests script answers per model name, so each test names its own), priced so cost
 * accounting shows: 1 USD per million prompt tokens, 2 per million completion tokens.
 */
const agentsEnv = (openai: FakeOpenAI) => ({
  AGENTS_MODEL_PROVIDERS: JSON.stringify({
    fake: { baseUrl: openai.url, apiKey: 'e2e', models: { '*': { inputUsdPerMTok: 1, outputUsdPerMTok: 2, contextTokens: 8192 } } },
  }),
  AGENTS_DEFAULT_MODEL: 'fake/default',
  AGENTS_EMBEDDING_MODEL: 'fake/embeddings',
  AGENTS_WORKSPACE_DIR: AGENT_WORKSPACES_DIR,
  AGENTS_MODEL_MAX_RETRIES: '2',
  AGENTS_TASK_RETRY_DELAY_SECONDS: '0.5',
  // agents.spec waits for a decision's deadline and its warning.
  AGENTS_APPROVAL_TIMEOUT_SECONDS: '6',
  AGENTS_APPROVAL_WARNING_SECONDS: '4',
  // node: the network test connects to a local port from inside the sandbox.
  AGENTS_COMMAND_ALLOWLIST: 'ls,cat,echo,grep,wc,node',
});

/** Where the local OpenID provider of the default platform sends users back to. */
export const OIDC_REDIRECT_URI = 'http://127.0.0.1:5999/auth/callback';
export const PRODUCTION_ALLOWED_ORIGIN = 'https://app.example.com';
/** The default platform's seal key for emailed tokens, so a test can seal an event as auth would. */
export const DEFAULT_EMAIL_TOKEN_SEAL_KEY = 'default-e2e-email-token-seal-key-0123456789';

/**
 * The platforms the e2e files share, one per configuration (apps/platform-e2e/jest: the test
 * environment holds the pool, the sequencer runs each configuration's files together). Most files
 * only need short timers and polls, so they share `default`; a configuration of its own is for
 * what would change other files' results: production mode, sign-in limits per IP, a privacy participant
 * that never answers, a signing key rotation. Limits per user, challenge or endpoint are safe to share, since
 * every test creates its own users and tenants. What only one service reads (the gateway's limits, a
 * service's tracing) goes on an instance of its own beside a shared platform's, which starts in seconds
 * where a platform boots every service.
 */
export const PLATFORM_CONFIGURATIONS = {
  default: () =>
    withLocalServers(
      async () => ({
        smtp: await startSmtpCapture(),
        oidcProvider: await startOidcProvider({ redirectUris: [OIDC_REDIRECT_URI] }),
        jira: stoppable(await startFakeJira({ requestsPerSecond: JIRA_REQUESTS_PER_SECOND })),
        openai: stoppable(await startFakeOpenAI()),
      }),
      ({ smtp, oidcProvider, openai }: { smtp: SmtpCapture; oidcProvider: LocalOidcProvider; openai: FakeOpenAI }) =>
        startPlatform({
          env: { EMAIL_TOKEN_SEAL_KEY: DEFAULT_EMAIL_TOKEN_SEAL_KEY },
          // The fake JIRA listens on 127.0.0.1 over http, which production connections may not use.
          serviceEnv: {
            export: {
              JIRA_ALLOW_PRIVATE_NETWORKS: 'true',
              JIRA_RETRY_INITIAL_MS: '50',
              JIRA_RETRY_MAX_MS: '500',
              // export.spec serves document images from 127.0.0.1 and waits for a due schedule and an expired file.
              EXPORT_IMAGE_ALLOW_PRIVATE_NETWORKS: 'true',
              EXPORT_SCHEDULE_CHECK_SECONDS: '1',
              EXPORT_RETENTION_CHECK_SECONDS: '1',
            },
            agents: agentsEnv(openai),
          },
          authEnv: {
            EMAIL_TOKEN_REQUESTS_PER_HOUR: '3',
            // Failed sign-ins of every file come from 127.0.0.1 (login-limits tests the per-IP block).
            LOGIN_MAX_FAILURES_PER_IP: '100000',
            MFA_MAX_ATTEMPTS: '3',
            PRIVACY_SWEEP_SECONDS: '0.5',
            OIDC_ALLOW_INSECURE_ISSUERS: 'true',
            OIDC_PROVIDERS: JSON.stringify([
              {
                id: 'local',
                name: 'Local SSO',
                issuer: oidcProvider.issuer,
                clientId: oidcProvider.clientId,
                clientSecret: oidcProvider.clientSecret,
                redirectUris: [OIDC_REDIRECT_URI],
              },
            ]),
          },
          // Statement logs for the query-count assertions of content.spec.
          contentEnv: { LOG_LEVEL: 'debug' },
          // Every file calls from 127.0.0.1: the per-IP request limit would add them up (gateway-protection.spec tests it on a gateway of its own).
          gatewayEnv: { RATE_LIMIT_PER_IP: '1000000' },
          notificationsEnv: {
            SMTP_URL: smtp.url,
            APP_URL: 'https://app.example',
            // Retries are jobs: whole seconds, 1-2 s then 2 s (capped).
            EMAIL_RETRY_INITIAL_SECONDS: '1',
            EMAIL_RETRY_MAX_SECONDS: '2',
            EMAIL_MAX_ATTEMPTS: '4',
            WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
            WEBHOOK_RETRY_INITIAL_SECONDS: '1',
            WEBHOOK_RETRY_MAX_SECONDS: '2',
            WEBHOOK_MAX_ATTEMPTS: '3',
            WEBHOOK_DISABLE_AFTER_FAILURES: '6',
            REALTIME_REVOCATION_CHECK_MS: '200',
          },
        }),
    ),
  /**
   * Signing keys reloaded every second. A rotation is platform-wide: the verifiers refetch the JWKS
   * at most every 30 s, so other files' tokens of the new key could be refused for a while.
   */
  'key-rotation': () => startPlatform({ authEnv: { SIGNING_KEY_RELOAD_SECONDS: '1' } }),
  /**
   * Tight sign-in limits, per IP among them (every file calls from 127.0.0.1; tests vary the client
   * IP with X-Forwarded-For), and captured email for password resets while sign-in is delayed.
   */
  'login-limits': () =>
    withLocalServers(
      async () => ({ smtp: await startSmtpCapture() }),
      ({ smtp }: { smtp: SmtpCapture }) =>
        startPlatform({
          authEnv: {
            MAX_SESSIONS_PER_USER: '3',
            LOGIN_FAILURES_BEFORE_DELAY: '3',
            LOGIN_DELAY_BASE_SECONDS: '1',
            LOGIN_DELAY_MAX_SECONDS: '4',
            LOGIN_ACCOUNT_FAILURES_PER_HOUR: '8',
            LOGIN_MAX_FAILURES_PER_IP: '6',
            LOGIN_IP_BLOCK_SECONDS: '3',
          },
          notificationsEnv: { SMTP_URL: smtp.url, APP_URL: 'https://app.example' },
        }),
    ),
  production: () =>
    withLocalServers(
      async () => ({ smtp: await startSmtpCapture(), openai: stoppable(await startFakeOpenAI()) }),
      ({ smtp, openai }: { smtp: SmtpCapture; openai: FakeOpenAI }) =>
        startPlatform({
          // Debug logs in every service: the most any operator would log (token-sealing.spec reads them all).
          env: {
            NODE_ENV: 'production',
            LOG_LEVEL: 'debug',
            EMAIL_TOKEN_SEAL_KEY: 'e2e-production-email-token-seal-key-0123456789',
            INTERNAL_API_SECRET: 'e2e-production-internal-api-secret-0123456789',
          },
          serviceEnv: {
            export: {
              FILE_LINK_SECRET: 'e2e-production-export-file-link-secret-0123456789',
              JIRA_TOKEN_SEAL_KEY: 'e2e-production-jira-token-seal-key-0123456789',
            },
            // Production refuses the scripted model: a real (local) endpoint.
            agents: agentsEnv(openai),
          },
          authEnv: {
            SIGNING_KEY_SECRET: 'e2e-production-signing-key-secret-0123456789',
            FILE_LINK_SECRET: 'e2e-production-file-link-secret-0123456789',
          },
          notificationsEnv: {
            SMTP_URL: smtp.url,
            APP_URL: 'https://app.example',
            WEBHOOK_SECRET_KEY: 'e2e-production-webhook-secret-key-0123456789',
          },
          gatewayEnv: {
            CORS_ORIGINS: PRODUCTION_ALLOWED_ORIGIN,
            RATE_LIMIT_PER_IP: '3',
            RATE_LIMIT_ALLOWLIST: '127.0.0.1,::ffff:127.0.0.1',
          },
        }),
    ),
  /**
   * Workers killed mid-job (kill -9) and replaced, in export-resume.spec and agents-resume.spec:
   * export attempts time out after 8 s and are failed over within a second, against a fake JIRA
   * slow enough to catch the job midway; agent task leases lapse after 3 s, and an agent's queue
   * holds two waiting tasks.
   */
  'worker-resume': () =>
    withLocalServers(
      async () => ({ jira: stoppable(await startFakeJira({ requestsPerSecond: 2 })), openai: stoppable(await startFakeOpenAI()) }),
      ({ openai }: { openai: FakeOpenAI }) =>
        startPlatform({
          serviceEnv: {
            export: {
              JIRA_ALLOW_PRIVATE_NETWORKS: 'true',
              JIRA_REQUESTS_PER_SECOND: '2',
              EXPORT_ATTEMPT_TIMEOUT_SECONDS: '8',
              EXPORT_RETRY_DELAY_SECONDS: '1',
              JOBS_SUPERVISE_INTERVAL_SECONDS: '1',
            },
            // agents-resume.spec fills an agent's queue, and finds a plan whose replica was killed retried once its heartbeat lapsed.
            agents: { ...agentsEnv(openai), AGENTS_QUEUE_LIMIT: '2', JOBS_HEARTBEAT_SECONDS: '10', JOBS_SUPERVISE_INTERVAL_SECONDS: '1' },
          },
        }),
    ),
  /** backup.spec drops every service's schema under the running services and restores it. */
  backup: () =>
    withLocalServers(
      async () => ({ openai: stoppable(await startFakeOpenAI()) }),
      ({ openai }: { openai: FakeOpenAI }) => startPlatform({ serviceEnv: { agents: agentsEnv(openai) } }),
    ),
  /** A privacy participant (billing) that never answers, and short saga time-outs. */
  'silent-privacy-participant': () =>
    startPlatform({
      authEnv: {
        PRIVACY_PARTICIPANTS: 'content,notifications,billing',
        ERASURE_TIMEOUT_SECONDS: '2',
        DATA_EXPORT_TIMEOUT_SECONDS: '2',
        PRIVACY_SWEEP_SECONDS: '0.5',
      },
    }),
  /** Content searches an OpenSearch node (tools/opensearch) that its indexer keeps current off the write path. */
  'search-engine': () =>
    withLocalServers(
      async () => ({ searchEngine: await startOpenSearchNode({ heapMb: 384 }) }),
      ({ searchEngine }: { searchEngine: OpenSearchNode }) =>
        startPlatform({ contentEnv: { SEARCH_ENGINE_URL: searchEngine.url, SEARCH_ENGINE_POLL_INTERVAL_MS: '100' } }),
    ),
} satisfies Record<string, () => Promise<Platform>>;

export type PlatformName = keyof typeof PLATFORM_CONFIGURATIONS;
export type PlatformOf<N extends PlatformName> = Awaited<ReturnType<(typeof PLATFORM_CONFIGURATIONS)[N]>>;

/**
 * The shared platform of a configuration, booted by the first file that asks for it. Files never
 * stop it; what a test creates (tenants, users, endpoints) is its own, so tests stay independent.
 * The sequencer finds the configurations a file uses by the literal `usePlatform('<name>')`.
 */
export function usePlatform<N extends PlatformName>(name: N): Promise<PlatformOf<N>> {
  return usePooledPlatform<PlatformOf<N>>(name);
}
