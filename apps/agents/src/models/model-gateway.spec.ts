import { FakeOpenAI, startFakeOpenAI } from '@multipult/testing';
import { AgentsConfig, agentsConfigSchema } from '../config';
import { ChatRequest, ModelError, ModelGateway, UnknownModelError } from './model-gateway';

function configWith(providers: Record<string, unknown> | undefined, variables: Record<string, string> = {}): AgentsConfig {
  return agentsConfigSchema.parse({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://agents@127.0.0.1:5432/agents',
    AUTH_JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
    ...(providers ? { AGENTS_MODEL_PROVIDERS: JSON.stringify(providers) } : {}),
    AGENTS_MODEL_MAX_RETRIES: '2',
    ...variables,
  });
}

/** What the call threw. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

const ask = (model: string, text = 'What is in this folder?'): ChatRequest => ({ model, messages: [{ role: 'user', content: text }] });

describe('ModelGateway against an OpenAI-compatible server', () => {
  let fake: FakeOpenAI;
  let gateway: ModelGateway;

  const gatewayFor = (variables: Record<string, string> = {}) =>
    new ModelGateway(
      configWith(
        {
          fake: {
            baseUrl: fake.url,
            apiKey: 'sk-fake',
            models: {
              'gpt-a': { inputUsdPerMTok: 2.5, outputUsdPerMTok: 10 },
              'embed-a': { inputUsdPerMTok: 0.02, embeddings: true },
            },
          },
          local: { baseUrl: fake.url, apiKey: 'sk-fake', models: { '*': { inputUsdPerMTok: 1, outputUsdPerMTok: 1, contextTokens: 32_768 } } },
        },
        variables,
      ),
    );

  beforeEach(async () => {
    fake = await startFakeOpenAI({ apiKey: 'sk-fake' });
    gateway = gatewayFor();
  });

  afterEach(async () => {
    await fake.close();
  });

  it('streams text, handing each content delta over as it arrives, with usage requested', async () => {
    fake.script('gpt-a', [{ content: 'There are three files here: a README, a licence and a package manifest.' }]);
    const deltas: string[] = [];

    const result = await gateway.chat({ ...ask('fake/gpt-a'), onDelta: (text) => deltas.push(text) });

    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe('There are three files here: a README, a licence and a package manifest.');
    expect(result).toMatchObject({ content: deltas.join(''), toolCalls: [], finishReason: 'stop', model: 'fake/gpt-a', scripted: false });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fake.requestsFor('gpt-a')).toEqual([
      expect.objectContaining({ stream: true, status: 200, body: expect.objectContaining({ stream_options: { include_usage: true } }) }),
    ]);
  });

  it('reassembles streamed tool calls in order, with the tools and token limit sent', async () => {
    fake.script('gpt-a', [{ toolCalls: [{ name: 'list_directory', arguments: { path: 'src/some/deeper/folder' } }, { name: 'read_file', arguments: { path: 'README.md' } }] }]);
    const tools = ['list_directory', 'read_file'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: { path: { type: 'string' } } } } }));

    const result = await gateway.chat({ ...ask('fake/gpt-a'), tools, maxTokens: 256 });

    expect(result.content).toBeNull();
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: 'list_directory', arguments: '{"path":"src/some/deeper/folder"}' },
      { id: expect.stringMatching(/^call_/), name: 'read_file', arguments: '{"path":"README.md"}' },
    ]);
    expect(fake.requests[0].body).toMatchObject({ model: 'gpt-a', max_tokens: 256, tools });
  });

  it('prices the usage the server reports per million tokens, and estimates it when the server reports none', async () => {
    fake.script('gpt-a', [{ content: 'Counted.', usage: { promptTokens: 200_000, completionTokens: 50_000 } }, { content: '12345678', omitUsage: true }]);

    const reported = await gateway.chat(ask('fake/gpt-a'));
    const estimated = await gateway.chat(ask('fake/gpt-a', 'x'.repeat(41)));

    expect(reported.usage.promptTokens).toBe(200_000);
    expect(reported.usage.completionTokens).toBe(50_000);
    expect(reported.usage.costUsd).toBeCloseTo(0.5 + 0.5, 10);
    expect(estimated.usage.promptTokens).toBe(11);
    expect(estimated.usage.completionTokens).toBe(2);
    expect(estimated.usage.costUsd).toBeCloseTo((11 * 2.5 + 2 * 10) / 1_000_000, 12);
  });

  it('waits out a 429 (Retry-After) through the SDK’s retry and answers', async () => {
    fake.failNext('gpt-a', 1, 429, 0);
    fake.script('gpt-a', [{ content: 'After the wait.' }]);

    const result = await gateway.chat(ask('fake/gpt-a'));

    expect(result.content).toBe('After the wait.');
    expect(fake.requestsFor('gpt-a').map((request) => request.status)).toEqual([429, 200]);
  });

  it('fails transiently with the status once a 500 outlasts the retries', async () => {
    fake.failNext('gpt-a', 10, 500, 0);

    const error = await failure(gateway.chat(ask('fake/gpt-a')));

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ transient: true, status: 500 });
    expect(error.message).toContain('fake/gpt-a');
    expect(fake.requestsFor('gpt-a')).toHaveLength(1 + 2);
  });

  it('fails for good on a 400, without retrying', async () => {
    fake.script('gpt-a', [{ status: 400, error: "Invalid 'messages[0].content'." }]);

    const error = await failure(gateway.chat(ask('fake/gpt-a')));

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ transient: false, status: 400 });
    expect(error.message).toContain("Invalid 'messages[0].content'.");
    expect(fake.requestsFor('gpt-a')).toHaveLength(1);
  });

  it('fails transiently when the server is slow to answer, or stalls mid-stream', async () => {
    // A second of patience: on a loaded CI machine the response headers alone can take a few hundred ms,
    // and a stall case whose headers time out reports a connection error instead of the stall.
    const impatient = gatewayFor({ AGENTS_MODEL_TIMEOUT_MS: '1000', AGENTS_MODEL_MAX_RETRIES: '0' });
    fake.script('gpt-a', [{ content: 'Too late.', delayMs: 10_000 }, { content: 'Starts, then stalls for a long while.', chunkDelayMs: 10_000 }]);
    const deltas: string[] = [];

    const slow = await failure(impatient.chat(ask('fake/gpt-a')));
    const stalled = await failure(impatient.chat({ ...ask('fake/gpt-a'), onDelta: (text) => deltas.push(text) }));

    expect(slow).toBeInstanceOf(ModelError);
    // Under jest the SDK sees fetch's AbortError from another realm and reports a connection error, not its timeout error.
    expect(slow).toMatchObject({ transient: true, status: undefined });
    expect(stalled).toBeInstanceOf(ModelError);
    expect(stalled).toMatchObject({ transient: true, message: expect.stringContaining('timed out') });
    expect(deltas).toEqual([]);
  });

  it('fails for good when the caller aborts', async () => {
    fake.script('gpt-a', [{ content: 'Never read.', delayMs: 1000 }]);

    const error = await failure(gateway.chat({ ...ask('fake/gpt-a'), signal: AbortSignal.timeout(50) }));

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ transient: false, message: expect.stringContaining('aborted') });
  });

  it('lets an error of the onDelta callback through unchanged', async () => {
    const broken = new RangeError('the consumer broke');

    const error = await failure(gateway.chat({ ...ask('fake/gpt-a'), onDelta: () => { throw broken; } }));

    expect(error).toBe(broken);
  });

  it('serves any model name on a wildcard provider with the wildcard’s spec, listed as <provider>/*', async () => {
    fake.script('llama3.1:8b', [{ content: 'Local answer.', usage: { promptTokens: 1_000_000, completionTokens: 0 } }]);

    const result = await gateway.chat(ask('local/llama3.1:8b'));

    expect(result).toMatchObject({ content: 'Local answer.', model: 'local/llama3.1:8b' });
    expect(result.usage.costUsd).toBeCloseTo(1, 10);
    expect(fake.requestsFor('llama3.1:8b')).toHaveLength(1);
    expect(gateway.resolve('local/qwen2.5')).toEqual({
      id: 'local/qwen2.5',
      provider: 'local',
      model: 'qwen2.5',
      spec: { inputUsdPerMTok: 1, outputUsdPerMTok: 1, contextTokens: 32_768, embeddings: false },
      scripted: false,
    });
    expect(gateway.models().map((model) => model.id)).toEqual(['fake/gpt-a', 'fake/embed-a', 'local/*']);
    expect(() => gateway.resolve('local/*')).toThrow(UnknownModelError);
  });

  it('refuses unknown models with a message naming what is configured', async () => {
    expect(() => gateway.resolve('fake/gpt-z')).toThrow(/"fake\/gpt-z" is not configured: provider "fake" serves gpt-a, embed-a/);
    expect(() => gateway.resolve('nowhere/gpt-a')).toThrow(/no provider "nowhere"; known models: fake\/gpt-a, fake\/embed-a, local\/\*/);
    expect(() => gateway.resolve('gpt-a')).toThrow(/not "<provider>\/<model>"/);
    expect(() => gateway.resolve('scripted/planner')).toThrow(UnknownModelError);
    expect(await failure(gateway.chat(ask('fake/gpt-z')))).toBeInstanceOf(UnknownModelError);
    expect(fake.requests).toEqual([]);
  });

  it('embeds in order with usage and cost, and keeps chat and embeddings models apart', async () => {
    const { vectors, usage } = await gateway.embed('fake/embed-a', ['first text', 'second text']);
    const again = await gateway.embed('fake/embed-a', ['second text']);

    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(64);
    expect(Math.hypot(...vectors[0])).toBeCloseTo(1, 5);
    expect(again.vectors[0]).toEqual(vectors[1]);
    expect(usage).toEqual({ promptTokens: 3 + 3, completionTokens: 0, costUsd: expect.closeTo((6 * 0.02) / 1_000_000, 15) });
    expect(await failure(gateway.embed('fake/gpt-a', ['x']))).toMatchObject({ transient: false, message: expect.stringContaining('not an embeddings model') });
    expect(await failure(gateway.chat(ask('fake/embed-a')))).toMatchObject({ transient: false, message: expect.stringContaining('not a chat model') });
  });

  it('defaults to AGENTS_DEFAULT_MODEL, else the first chat model; embeddings to the first embeddings model', () => {
    expect(gateway.scriptedInUse).toBe(false);
    expect(gateway.defaultChatModel()).toBe('fake/gpt-a');
    expect(gateway.defaultEmbeddingModel()).toBe('fake/embed-a');
    expect(gatewayFor({ AGENTS_DEFAULT_MODEL: 'local/llama3.1:8b' }).defaultChatModel()).toBe('local/llama3.1:8b');
  });
});

describe('ModelGateway without providers', () => {
  const gateway = new ModelGateway(configWith(undefined));

  it('uses the built-in scripted model for chat and embeddings', async () => {
    const deltas: string[] = [];

    const result = await gateway.chat({ ...ask(gateway.defaultChatModel(), 'Summarise the plan'), onDelta: (text) => deltas.push(text) });
    const { vectors } = await gateway.embed(gateway.defaultEmbeddingModel(), ['alpha beta']);

    expect(gateway.scriptedInUse).toBe(true);
    expect(gateway.models().map((model) => model.id)).toEqual(['scripted/planner', 'scripted/embeddings']);
    expect([gateway.defaultChatModel(), gateway.defaultEmbeddingModel()]).toEqual(['scripted/planner', 'scripted/embeddings']);
    expect(result).toMatchObject({ content: 'Scripted answer to: Summarise the plan', model: 'scripted/planner', scripted: true, usage: { costUsd: 0 } });
    expect(deltas).toEqual(['Scripted ', 'answer ', 'to: ', 'Summarise ', 'the ', 'plan']);
    expect(vectors[0]).toHaveLength(64);
    expect(() => gateway.resolve('openai/gpt-4o')).toThrow(/known models: scripted\/planner, scripted\/embeddings/);
  });

  it('reports a caller’s abort of a scripted call as a ModelError', async () => {
    const error = await failure(gateway.chat({ ...ask('scripted/planner'), signal: AbortSignal.abort() }));

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ transient: false });
  });
});
