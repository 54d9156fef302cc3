import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { FakeOpenAI, startFakeOpenAI } from './fake-openai';

/** What the SDK threw for a refused request. */
async function refusal(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('startFakeOpenAI', () => {
  let fake: FakeOpenAI;
  let client: OpenAI;

  beforeEach(async () => {
    fake = await startFakeOpenAI({ apiKey: 'sk-test' });
    client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 2 });
  });

  afterEach(async () => {
    await fake.close();
  });

  it('streams text as role, several content deltas, stop, then usage when asked', async () => {
    fake.script('gpt-test', [{ content: 'The quick brown fox jumps over the lazy dog twice.' }]);

    const chunks = await collect(
      await client.chat.completions.create({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'Tell me about foxes' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );

    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const contentDeltas = chunks.flatMap((chunk) => (chunk.choices[0]?.delta.content ? [chunk.choices[0].delta.content] : []));
    expect(contentDeltas.length).toBeGreaterThan(2);
    expect(contentDeltas.join('')).toBe('The quick brown fox jumps over the lazy dog twice.');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: Math.ceil('Tell me about foxes'.length / 4), completion_tokens: 13, total_tokens: 18 });
    expect(fake.requestsFor('gpt-test')).toEqual([expect.objectContaining({ path: '/v1/chat/completions', stream: true, status: 200 })]);
  });

  it('streams tool calls in pieces that reassemble, with the tools offered passed to a handler', async () => {
    const seen: string[][] = [];
    fake.script('gpt-test', [
      (request) => {
        seen.push(request.tools);
        return { toolCalls: [{ name: 'list_directory', arguments: { path: './some/longer/path' } }, { name: 'read_file', arguments: '{"path":"a.txt"}' }] };
      },
    ]);

    const chunks = await collect(
      await client.chat.completions.create({
        model: 'gpt-test',
        messages: [{ role: 'user', content: 'Look around' }],
        tools: ['list_directory', 'read_file'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: {} } } })),
        stream: true,
      }),
    );

    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    let argumentPieces = 0;
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        calls[delta.index] ??= { id: '', name: '', arguments: '' };
        if (delta.id) calls[delta.index].id = delta.id;
        if (delta.function?.name) calls[delta.index].name = delta.function.name;
        if (delta.function?.arguments) {
          calls[delta.index].arguments += delta.function.arguments;
          argumentPieces += 1;
        }
      }
    }
    expect(seen).toEqual([['list_directory', 'read_file']]);
    expect(calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['list_directory', { path: './some/longer/path' }],
      ['read_file', { path: 'a.txt' }],
    ]);
    expect(calls.every((call) => call.id.startsWith('call_'))).toBe(true);
    expect(argumentPieces).toBeGreaterThan(2);
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
  });

  it('answers without streaming, replies in order and repeats the last', async () => {
    fake.script('gpt-test', [{ content: 'one' }, { content: 'two', usage: { promptTokens: 7, completionTokens: 3 } }]);
    const ask = () => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });

    const first = await ask();
    const second = await ask();
    const third = await ask();

    expect(first.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'one' }, finish_reason: 'stop' });
    expect([second.choices[0].message.content, third.choices[0].message.content]).toEqual(['two', 'two']);
    expect(second.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect((await ask()).object).toBe('chat.completion');
  });

  it('embeds deterministically as unit vectors of 64 dimensions, with usage', async () => {
    const answer = await client.embeddings.create({ model: 'embed-test', input: ['alpha', 'beta', 'alpha'] });
    const floats = await client.embeddings.create({ model: 'embed-test', input: 'alpha', encoding_format: 'float' });

    const [alpha, beta, alphaAgain] = answer.data.map((item) => Array.from(item.embedding));
    expect(alpha).toHaveLength(64);
    expect(Math.hypot(...alpha)).toBeCloseTo(1, 5);
    expect(alphaAgain).toEqual(alpha);
    expect(beta).not.toEqual(alpha);
    expect(floats.data[0].embedding.map((value, index) => value - alpha[index]).every((difference) => Math.abs(difference) < 1e-6)).toBe(true);
    expect(answer.usage).toEqual({ prompt_tokens: 2 + 1 + 2, total_tokens: 5 });
  });

  it('lists the models it was scripted for', async () => {
    fake.script('gpt-listed', [{ content: 'x' }]);

    const page = await client.models.list();

    expect(page.data.map((model) => model.id)).toEqual(['gpt-listed']);
  });

  it('answers 429 with Retry-After, which the SDK waits out and retries', async () => {
    fake.script('gpt-test', [{ status: 429, error: 'Slow down', retryAfterSeconds: 0 }, { content: 'after the wait' }]);

    const answer = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });

    expect(answer.choices[0].message.content).toBe('after the wait');
    expect(fake.requestsFor('gpt-test').map((request) => request.status)).toEqual([429, 200]);
  });

  it('fails the next requests of one model as asked, in OpenAI’s error shape, until the SDK gives up', async () => {
    fake.failNext('gpt-test', 5, 503, 0);

    const error = await refusal(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }));
    const other = await client.chat.completions.create({ model: 'gpt-other', messages: [{ role: 'user', content: 'hi' }] });

    expect(error.status).toBe(503);
    expect(error.error).toEqual({ message: expect.any(String), type: 'server_error', param: null, code: null });
    expect(fake.requestsFor('gpt-test').map((request) => request.status)).toEqual([503, 503, 503]);
    expect(other.choices[0].message.content).toBe('Fake answer from gpt-other.');
  });

  it('refuses another API key with 401, which the SDK does not retry', async () => {
    const stranger = new OpenAI({ baseURL: fake.url, apiKey: 'sk-wrong', maxRetries: 2 });

    const error = await refusal(stranger.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }));

    expect(error.status).toBe(401);
    expect(error.code).toBe('invalid_api_key');
    expect(fake.requests).toHaveLength(1);
  });
});
