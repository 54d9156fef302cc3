import { z } from 'zod';

/** Prices and limits of one model of a provider. */
export const modelSpecSchema = z.object({
  /** USD per million prompt tokens and per million completion tokens (0: free, a local model). */
  inputUsdPerMTok: z.number().min(0).default(0),
  outputUsdPerMTok: z.number().min(0).default(0),
  /** The model's context window; older chat turns are summarised to stay within it. */
  contextTokens: z.number().int().min(512).default(8192),
  /** An embeddings model (used for memory), not a chat model. */
  embeddings: z.boolean().default(false),
});

/** One OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, LM Studio…) and the models agents may use on it. */
export const modelProviderSchema = z.object({
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Local servers accept any key; the SDK needs one. */
  apiKey: z.string().min(1).default('not-needed'),
  /** Model name → its spec; the key `"*"` (ANY_MODEL) admits any model name on this endpoint, with its spec. */
  models: z.record(z.string().min(1).max(200), modelSpecSchema).refine((models) => Object.keys(models).length > 0, 'must name at least one model'),
});

export const modelProvidersSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'provider names are lowercase letters, digits, - and _'), modelProviderSchema);

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ModelProvider = z.infer<typeof modelProviderSchema>;
export type ModelProviders = z.infer<typeof modelProvidersSchema>;

/** A `models` key admitting any model name on its endpoint (a local server serving whatever is pulled). */
export const ANY_MODEL = '*';

/** The provider name of the built-in scripted model. */
export const SCRIPTED_PROVIDER = 'scripted';
