import { z } from 'zod';
import { envHelpers } from '@multipult/config';
import { realtimeEnv } from '@multipult/realtime';
import { defineSubgraphConfig } from '@multipult/subgraph';
import { modelProvidersSchema } from './models/model-providers';

/** The kit's variables (database, Redis, Kafka, token verification, PORT 4005), live streams, and the agents service's own. */
export const agentsConfigSchema = defineSubgraphConfig(
  'agents',
  {
    ...realtimeEnv,
    /**
     * OpenAI-compatible endpoints agents may use, as JSON: `{ "<provider>": { "baseUrl", "apiKey",
     * "models": { "<model>": { "inputUsdPerMTok", "outputUsdPerMTok", "contextTokens" } } } }`.
     * Unset: only the built-in scripted model, which production refuses.
     */
    AGENTS_MODEL_PROVIDERS: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined || text.trim() === '') return {};
        try {
          const parsed = modelProvidersSchema.safeParse(JSON.parse(text));
          if (parsed.success) return parsed.data;
          for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        }
        return z.NEVER;
      }),
    /** The model new agents use when none is named, `<provider>/<model>`; the scripted model when no provider is configured. */
    AGENTS_DEFAULT_MODEL: z.string().min(3).optional(),
    /** The embeddings model agents' memories use, `<provider>/<model>`; the first configured embeddings model when unset (memory is off without one). */
    AGENTS_EMBEDDING_MODEL: z.string().min(3).optional(),
    /** Memories recalled into a task's context, the most similar to its prompt first. */
    AGENTS_MEMORY_RECALL: z.coerce.number().int().min(0).max(50).default(5),
    /** One model call: how long it may take, and retries of 429 and 5xx answers (backed off by the SDK, honouring Retry-After). */
    AGENTS_MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    AGENTS_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
    /** Model turns one task may take (each a model call, then its tool calls) before it fails. */
    AGENTS_MAX_TURNS_PER_TASK: z.coerce.number().int().min(1).max(200).default(16),
    /** Tasks this replica runs at once (each agent's own limit applies across replicas); each holds a database connection at times, so it must stay below DATABASE_POOL_MAX. */
    AGENTS_TASK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
    /** Tasks of one agent that may wait in its queue; beyond it a new run is refused (or waits AGENTS_QUEUE_WAIT_SECONDS). */
    AGENTS_QUEUE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(100),
    AGENTS_QUEUE_WAIT_SECONDS: z.coerce.number().min(0).max(60).default(0),
    /** Retries of a task whose model call failed transiently, backed off from this delay. */
    AGENTS_TASK_RETRY_LIMIT: z.coerce.number().int().min(0).max(10).default(2),
    AGENTS_TASK_RETRY_DELAY_SECONDS: z.coerce.number().min(0.1).max(600).default(2),
    /** A running task's worker renews its lease this often; a task whose lease lapsed (its replica died) is resumed elsewhere. */
    AGENTS_TASK_LEASE_SECONDS: z.coerce.number().min(1).max(600).default(30),
    AGENTS_RECOVERY_CHECK_SECONDS: z.coerce.number().min(0.5).max(600).default(10),
    /** How long a medium or high risk tool call waits for a decision before it is rejected, and how long before that a warning goes out. */
    AGENTS_APPROVAL_TIMEOUT_SECONDS: z.coerce.number().min(1).max(7 * 86_400).default(3600),
    AGENTS_APPROVAL_WARNING_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
    AGENTS_APPROVAL_CHECK_SECONDS: z.coerce.number().min(0.5).max(600).default(15),
    /** Per-user workspaces the file and command tools are confined to. */
    AGENTS_WORKSPACE_DIR: z.string().min(1).default('var/agent-workspaces'),
    /** Programs run_command may start (no shell): names looked up in PATH, or absolute paths. */
    AGENTS_COMMAND_ALLOWLIST: envHelpers.commaList.default(['ls', 'cat', 'head', 'tail', 'wc', 'grep', 'find', 'sort', 'uniq', 'echo', 'diff']),
    AGENTS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    AGENTS_COMMAND_MAX_OUTPUT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
    AGENTS_COMMAND_MAX_ARGS: z.coerce.number().int().min(1).max(1000).default(64),
    AGENTS_COMMAND_MAX_ARG_LENGTH: z.coerce.number().int().min(16).max(65_536).default(4096),
    /**
     * Commands run in their own network namespace (no network): `required` refuses to run a command
     * where the OS does not allow one, `auto` runs it without isolation there (and says so in the log).
     */
    AGENTS_COMMAND_NETWORK_ISOLATION: z.enum(['required', 'auto']).default('auto'),
    /** Largest file the file tools read or write. */
    AGENTS_FILE_MAX_BYTES: z.coerce.number().int().min(1024).max(100 * 1024 * 1024).default(1024 * 1024),
  },
  (config, ctx) => {
    if (config.AGENTS_TASK_CONCURRENCY >= config.DATABASE_POOL_MAX) {
      ctx.addIssue({
        code: 'custom',
        path: ['AGENTS_TASK_CONCURRENCY'],
        message: `must be below DATABASE_POOL_MAX (${config.DATABASE_POOL_MAX}): running tasks would take every connection and requests would wait for them`,
      });
    }
    if (config.NODE_ENV === 'production' && Object.keys(config.AGENTS_MODEL_PROVIDERS).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['AGENTS_MODEL_PROVIDERS'],
        message: 'must name at least one OpenAI-compatible endpoint in production (the built-in scripted model is for trying the platform only)',
      });
    }
  },
);

export type AgentsConfig = z.infer<typeof agentsConfigSchema>;
