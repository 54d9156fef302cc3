import { Inject, Injectable, Logger } from '@nestjs/common';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { APP_CONFIG } from '@multipult/config';
import type { AgentsConfig } from '../config';
import { ANY_MODEL, ModelSpec, SCRIPTED_PROVIDER } from './model-providers';
import { SCRIPTED_CHAT_MODEL, SCRIPTED_EMBEDDING_MODEL, SCRIPTED_SPECS, ScriptedModel, conversationChars, estimateTokens } from './scripted-model';

export interface ChatToolCall {
  id: string;
  name: string;
  /** The JSON text the model produced (not parsed: it may be invalid). */
  arguments: string;
}

export interface ChatRequest {
  /** `<provider>/<model>` */
  model: string;
  messages: ChatCompletionMessageParam[];
  tools?: ChatCompletionTool[];
  maxTokens?: number;
  signal?: AbortSignal;
  /** Each piece of content text as it streams in. */
  onDelta?: (text: string) => void;
}

export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface ChatResult {
  content: string | null;
  toolCalls: ChatToolCall[];
  finishReason: string;
  usage: ModelUsage;
  /** The `<provider>/<model>` that answered. */
  model: string;
  latencyMs: number;
  scripted: boolean;
}

export interface ResolvedModel {
  /** `<provider>/<model>` (`<provider>/*` in models() for a wildcard). */
  id: string;
  provider: string;
  model: string;
  spec: ModelSpec;
  scripted: boolean;
}

/** A model call failed; `transient` (429, 5xx, timeout, connection) once the SDK's own retries are spent, so a later retry may succeed. */
export class ModelError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** A model id no configured provider serves. */
export class UnknownModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownModelError';
  }
}

const TRANSIENT_STATUSES = new Set([408, 409, 429]);

/**
 * Every model call of the agents service: OpenAI-compatible endpoints from AGENTS_MODEL_PROVIDERS
 * through the official SDK (which retries 429, 5xx and connection failures with backoff, honouring
 * Retry-After), or the built-in scripted model when none is configured. Chat always streams.
 */
@Injectable()
export class ModelGateway {
  private readonly logger = new Logger(ModelGateway.name);
  private readonly clients = new Map<string, OpenAI>();
  private readonly scriptedModel = new ScriptedModel();
  /** True when no provider is configured: every call is answered by the scripted model. */
  readonly scriptedInUse: boolean;

  constructor(@Inject(APP_CONFIG) private readonly config: AgentsConfig) {
    const providers = Object.entries(config.AGENTS_MODEL_PROVIDERS);
    for (const [name, provider] of providers) {
      this.clients.set(
        name,
        new OpenAI({ baseURL: provider.baseUrl, apiKey: provider.apiKey, timeout: config.AGENTS_MODEL_TIMEOUT_MS, maxRetries: config.AGENTS_MODEL_MAX_RETRIES }),
      );
    }
    this.scriptedInUse = providers.length === 0;
    if (this.scriptedInUse) {
      this.logger.warn(
        `No model provider is configured (AGENTS_MODEL_PROVIDERS): the BUILT-IN SCRIPTED MODEL answers every call. It is not a real model; production refuses it.`,
      );
    } else {
      const described = providers.map(([name, provider]) => `${name} at ${provider.baseUrl} (${Object.keys(provider.models).join(', ')})`);
      this.logger.log(`Model providers: ${described.join('; ')}; default chat model ${this.defaultChatModel()}, embeddings ${this.defaultEmbeddingModel()}`);
    }
    try {
      this.resolve(this.defaultChatModel());
    } catch (error) {
      this.logger.warn(`The default chat model cannot be used (set AGENTS_DEFAULT_MODEL): ${(error as Error).message}`);
    }
  }

  /** The provider, model and spec of `<provider>/<model>`; a provider's `"*"` admits any model name. */
  resolve(id: string): ResolvedModel {
    const slash = id.indexOf('/');
    const provider = slash > 0 ? id.slice(0, slash) : '';
    const model = slash > 0 ? id.slice(slash + 1) : '';
    if (!provider || !model) throw new UnknownModelError(`Model "${id}" is not "<provider>/<model>"; known models: ${this.knownIds()}`);
    const configured = this.config.AGENTS_MODEL_PROVIDERS[provider];
    if (configured) {
      const spec = model === ANY_MODEL ? undefined : (configured.models[model] ?? configured.models[ANY_MODEL]);
      if (!spec) throw new UnknownModelError(`Model "${id}" is not configured: provider "${provider}" serves ${Object.keys(configured.models).join(', ')}`);
      return { id, provider, model, spec, scripted: false };
    }
    if (provider === SCRIPTED_PROVIDER && this.scriptedInUse && SCRIPTED_SPECS[model]) {
      return { id, provider, model, spec: SCRIPTED_SPECS[model], scripted: true };
    }
    throw new UnknownModelError(`Model "${id}" is not configured: no provider "${provider}"; known models: ${this.knownIds()}`);
  }

  /** The configured models (a wildcard provider as `<provider>/*`), or the scripted ones when no provider is configured. */
  models(): ResolvedModel[] {
    if (this.scriptedInUse) {
      return Object.entries(SCRIPTED_SPECS).map(([model, spec]) => ({ id: `${SCRIPTED_PROVIDER}/${model}`, provider: SCRIPTED_PROVIDER, model, spec, scripted: true }));
    }
    return Object.entries(this.config.AGENTS_MODEL_PROVIDERS).flatMap(([provider, { models }]) =>
      Object.entries(models).map(([model, spec]) => ({ id: `${provider}/${model}`, provider, model, spec, scripted: false })),
    );
  }

  /** AGENTS_DEFAULT_MODEL, else the first configured chat model (wildcards name none), else the scripted planner. */
  defaultChatModel(): string {
    if (this.config.AGENTS_DEFAULT_MODEL) return this.config.AGENTS_DEFAULT_MODEL;
    const first = this.models().find((candidate) => !candidate.spec.embeddings && candidate.model !== ANY_MODEL && !candidate.scripted);
    return first?.id ?? `${SCRIPTED_PROVIDER}/${SCRIPTED_CHAT_MODEL}`;
  }

  /** The first configured embeddings model, else the scripted one. */
  defaultEmbeddingModel(): string {
    const first = this.models().find((candidate) => candidate.spec.embeddings && candidate.model !== ANY_MODEL && !candidate.scripted);
    return first?.id ?? `${SCRIPTED_PROVIDER}/${SCRIPTED_EMBEDDING_MODEL}`;
  }

  /**
   * One streamed chat completion, its content and tool calls assembled. Usage comes from the server
   * (`stream_options.include_usage`), else is estimated at four characters a token.
   * @throws UnknownModelError, ModelError
   */
  async chat(request: ChatRequest): Promise<ChatResult> {
    const resolved = this.resolve(request.model);
    if (resolved.spec.embeddings && this.namedSpec(resolved)) {
      throw new ModelError(`${resolved.id} is an embeddings model, not a chat model`, false);
    }
    if (resolved.scripted) {
      try {
        return await this.scriptedModel.chat(request);
      } catch (error) {
        throw this.modelError(resolved.id, error, request.signal);
      }
    }
    const client = this.clientOf(resolved.provider);
    const started = Date.now();
    // The SDK's timeout ends at the response headers; a stream that then stalls is cut here.
    const stall = new AbortController();
    let stallTimer: NodeJS.Timeout | undefined;
    const armStallTimer = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => stall.abort(), this.config.AGENTS_MODEL_TIMEOUT_MS);
    };
    const signal = request.signal ? AbortSignal.any([request.signal, stall.signal]) : stall.signal;
    let content = '';
    let sawContent = false;
    const calls = new Map<number, ChatToolCall>();
    let finishReason: string | undefined;
    let serverUsage: ChatCompletionChunk['usage'] | undefined;
    try {
      const stream = await client.chat.completions.create(
        {
          model: resolved.model,
          messages: request.messages,
          ...(request.tools?.length ? { tools: request.tools } : {}),
          // max_tokens, not max_completion_tokens: the one every OpenAI-compatible server accepts.
          ...(request.maxTokens ? { max_tokens: request.maxTokens } : {}),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal },
      );
      armStallTimer();
      for await (const chunk of stream) {
        armStallTimer();
        if (chunk.usage) serverUsage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.delta.content) {
          sawContent = true;
          content += choice.delta.content;
          request.onDelta?.(choice.delta.content);
        }
        for (const delta of choice.delta.tool_calls ?? []) {
          const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
          if (delta.id) call.id = delta.id;
          if (delta.function?.name) call.name += delta.function.name;
          if (delta.function?.arguments) call.arguments += delta.function.arguments;
          calls.set(delta.index, call);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      // The SDK ends an aborted stream quietly: a stall or the caller's abort shows here.
      signal.throwIfAborted();
    } catch (error) {
      if (stall.signal.aborted && !request.signal?.aborted) {
        throw new ModelError(`${resolved.id}: no data for ${this.config.AGENTS_MODEL_TIMEOUT_MS} ms (timed out)`, true);
      }
      throw this.modelError(resolved.id, error, request.signal);
    } finally {
      clearTimeout(stallTimer);
    }
    if (finishReason === undefined) throw new ModelError(`${resolved.id}: the stream ended before the answer finished`, true);
    const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    const answerChars = content.length + toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
    const promptTokens = serverUsage?.prompt_tokens ?? estimateTokens(conversationChars(request.messages));
    const completionTokens = serverUsage?.completion_tokens ?? estimateTokens(answerChars);
    return {
      content: sawContent ? content : null,
      toolCalls,
      finishReason,
      usage: { promptTokens, completionTokens, costUsd: costOf(resolved.spec, promptTokens, completionTokens) },
      model: resolved.id,
      latencyMs: Date.now() - started,
      scripted: false,
    };
  }

  /**
   * Vectors for `inputs`, in order.
   * @throws UnknownModelError, ModelError
   */
  async embed(model: string, inputs: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; usage: ModelUsage }> {
    const resolved = this.resolve(model);
    if (!resolved.spec.embeddings && this.namedSpec(resolved)) {
      throw new ModelError(`${resolved.id} is a chat model, not an embeddings model`, false);
    }
    if (inputs.length === 0) return { vectors: [], usage: { promptTokens: 0, completionTokens: 0, costUsd: 0 } };
    if (resolved.scripted) return this.scriptedModel.embed(inputs);
    try {
      const answer = await this.clientOf(resolved.provider).embeddings.create({ model: resolved.model, input: inputs }, { signal });
      const vectors = [...answer.data].sort((a, b) => a.index - b.index).map((item) => Array.from(item.embedding));
      const promptTokens = answer.usage?.prompt_tokens ?? inputs.reduce((sum, text) => sum + estimateTokens(text.length), 0);
      return { vectors, usage: { promptTokens, completionTokens: 0, costUsd: costOf(resolved.spec, promptTokens, 0) } };
    } catch (error) {
      throw this.modelError(resolved.id, error, signal);
    }
  }

  /** The spec configured under the model's own name; undefined when only the provider's wildcard admits it. */
  private namedSpec(resolved: ResolvedModel): ModelSpec | undefined {
    if (resolved.scripted) return resolved.spec;
    return this.config.AGENTS_MODEL_PROVIDERS[resolved.provider]?.models[resolved.model];
  }

  private clientOf(provider: string): OpenAI {
    const client = this.clients.get(provider);
    if (!client) throw new UnknownModelError(`No provider "${provider}" is configured`);
    return client;
  }

  private knownIds(): string {
    return this.models()
      .map((model) => model.id)
      .join(', ');
  }

  /**
   * What failed, and whether a later retry may succeed (the SDK has spent its own retries by now).
   * Errors that are neither the SDK's nor the transport's (an onDelta callback throwing) pass unchanged.
   */
  private modelError(id: string, error: unknown, signal: AbortSignal | undefined): unknown {
    if (error instanceof ModelError) return error;
    if (signal?.aborted || error instanceof APIUserAbortError) return new ModelError(`${id}: the call was aborted`, false);
    if (error instanceof APIConnectionTimeoutError) return new ModelError(`${id}: timed out after ${this.config.AGENTS_MODEL_TIMEOUT_MS} ms`, true);
    if (error instanceof APIConnectionError) return new ModelError(`${id}: connection failed (${error.message})`, true);
    if (error instanceof APIError) {
      const status = error.status;
      // A stream that breaks with an error event carries no status: the server failed mid-answer.
      const transient = status === undefined || status >= 500 || TRANSIENT_STATUSES.has(status);
      return new ModelError(`${id}: ${status ?? 'stream error'} ${error.message}`, transient, status);
    }
    if (error instanceof SyntaxError) return new ModelError(`${id}: malformed answer (${error.message})`, false);
    // fetch's "terminated" when the connection drops mid-stream (matched by name: it may come from another realm).
    if ((error as { name?: unknown } | null)?.name === 'TypeError') return new ModelError(`${id}: the stream broke (${(error as Error).message})`, true);
    return error;
  }
}

/** USD for the tokens at the spec's per-million prices. */
function costOf(spec: ModelSpec, promptTokens: number, completionTokens: number): number {
  return (promptTokens * spec.inputUsdPerMTok + completionTokens * spec.outputUsdPerMTok) / 1_000_000;
}
