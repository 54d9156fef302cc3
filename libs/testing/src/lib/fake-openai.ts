import { createHash, randomBytes } from 'node:crypto';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface FakeToolCall {
  name: string;
  /** An object is sent as its JSON; a string as is (so a test can send arguments that are not JSON). */
  arguments: object | string;
}

export interface FakeReply {
  content?: string;
  toolCalls?: FakeToolCall[];
  /** Answered instead of a completion: an error with this status, in OpenAI's error shape. */
  status?: number;
  error?: string;
  /** Sent as Retry-After with an error status. */
  retryAfterSeconds?: number;
  /** Latency before the first byte, and between stream chunks. */
  delayMs?: number;
  chunkDelayMs?: number;
  /** Reported instead of the estimate (ceil(chars / 4) of the messages and of the answer). */
  usage?: { promptTokens: number; completionTokens: number };
  /** Sends no usage even when asked (as servers that ignore `stream_options.include_usage` do). */
  omitUsage?: boolean;
}

export interface FakeChatRequest {
  model: string;
  messages: Array<Record<string, unknown>>;
  /** Names of the functions offered. */
  tools: string[];
  stream: boolean;
  body: Record<string, unknown>;
}

export type FakeReplyHandler = (request: FakeChatRequest) => FakeReply | Promise<FakeReply>;

export interface FakeOpenAIRequest {
  /** The model asked for ('' when the body named none). */
  model: string;
  path: string;
  stream: boolean;
  status: number;
  at: number;
  body: Record<string, unknown>;
}

export interface FakeOpenAIOptions {
  /** Answered for a model nothing was scripted for (default: a short text naming the model). */
  defaultReply?: FakeReply;
  /** When set, requests with another bearer key are answered 401. */
  apiKey?: string;
}

export interface FakeOpenAI {
  /** http://127.0.0.1:<port>/v1, the SDK's `baseURL`. */
  url: string;
  /** Chat completions for `model` answer these in order; after the last, the last one repeats. */
  script(model: string, replies: Array<FakeReply | FakeReplyHandler>): void;
  /** The next `count` requests for `model` (chat or embeddings) answer `status` (500 by default). */
  failNext(model: string, count: number, status?: number, retryAfterSeconds?: number): void;
  /** Every request answered, in order (retries included). */
  requests: FakeOpenAIRequest[];
  requestsFor(model: string): FakeOpenAIRequest[];
  close(): Promise<void>;
}

const EMBEDDING_DIMENSIONS = 64;

/** OpenAI's error `type` for a status. */
function errorType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function errorBody(status: number, message: string, code: string | null = null) {
  return { error: { message, type: errorType(status), param: null, code } };
}

const estimateTokens = (chars: number) => Math.ceil(chars / 4);

/** Characters of a message's text: string content, text parts, and tool call names and arguments. */
function messageChars(message: Record<string, unknown>): number {
  const content = message.content;
  let chars = 0;
  if (typeof content === 'string') chars += content.length;
  else if (Array.isArray(content)) {
    for (const part of content as Array<{ text?: unknown }>) if (typeof part?.text === 'string') chars += part.text.length;
  }
  const toolCalls = message.tool_calls;
  if (Array.isArray(toolCalls)) {
    for (const call of toolCalls as Array<{ function?: { name?: string; arguments?: string } }>) {
      chars += (call.function?.name ?? '').length + (call.function?.arguments ?? '').length;
    }
  }
  return chars;
}

/** Splits text into pieces of about `size` characters, at word boundaries where there are some. */
function pieces(text: string, size: number): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  const result: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + word.length > size) {
      result.push(current);
      current = '';
    }
    current += word;
    while (current.length > size * 2) {
      result.push(current.slice(0, size));
      current = current.slice(size);
    }
  }
  if (current) result.push(current);
  return result;
}

/** A unit vector derived from the text's hash: the same text, the same vector. */
export function fakeEmbedding(text: string): number[] {
  const bytes = createHash('sha512').update(text).digest();
  const raw = Array.from(bytes.subarray(0, EMBEDDING_DIMENSIONS), (byte) => byte - 127.5);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((value) => value / norm);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * An OpenAI-compatible endpoint for tests, as the `openai` SDK calls it: chat completions
 * (JSON, or server-sent events with role, content and tool call deltas, then usage when
 * `stream_options.include_usage`), embeddings (float or base64), the model list, bearer keys,
 * scripted replies per model, and injected failures with Retry-After.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const requests: FakeOpenAIRequest[] = [];
  const scripts = new Map<string, { replies: Array<FakeReply | FakeReplyHandler>; next: number }>();
  const failures = new Map<string, { remaining: number; status: number; retryAfterSeconds?: number }>();
  let nextId = 1;

  async function replyFor(request: FakeChatRequest): Promise<FakeReply> {
    const script = scripts.get(request.model);
    if (!script || script.replies.length === 0) return options.defaultReply ?? { content: `Fake answer from ${request.model}.` };
    const reply = script.replies[Math.min(script.next, script.replies.length - 1)];
    script.next += 1;
    return typeof reply === 'function' ? reply(request) : reply;
  }

  function usageOf(request: FakeChatRequest, reply: FakeReply, content: string, toolCalls: Array<{ name: string; arguments: string }>) {
    const promptTokens = reply.usage?.promptTokens ?? estimateTokens(request.messages.reduce((sum, message) => sum + messageChars(message), 0));
    const completionTokens =
      reply.usage?.completionTokens ?? estimateTokens(content.length + toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0));
    return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  }

  async function chat(request: FakeChatRequest, res: ServerResponse, log: (status: number) => void): Promise<void> {
    const reply = await replyFor(request);
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return log(499);
    if (reply.status && reply.status >= 400) {
      const headers: Record<string, string> = reply.retryAfterSeconds !== undefined ? { 'retry-after': String(reply.retryAfterSeconds) } : {};
      return sendJson(res, reply.status, errorBody(reply.status, reply.error ?? `Scripted failure (${reply.status}).`), log, headers);
    }
    const content = reply.content ?? '';
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      id: `call_${randomBytes(12).toString('hex')}`,
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    }));
    const finishReason = toolCalls.length ? 'tool_calls' : 'stop';
    const usage = usageOf(request, reply, content, toolCalls);
    const id = `chatcmpl-fake${nextId++}`;
    const created = Math.floor(Date.now() / 1000);

    if (!request.stream) {
      return sendJson(
        res,
        200,
        {
          id,
          object: 'chat.completion',
          created,
          model: request.model,
          system_fingerprint: 'fp_fake',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: reply.content ?? (toolCalls.length ? null : ''),
                refusal: null,
                ...(toolCalls.length
                  ? { tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
                  : {}),
              },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          ...(reply.omitUsage ? {} : { usage }),
        },
        log,
      );
    }

    const includeUsage = !reply.omitUsage && (request.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: request.model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const chunks: unknown[] = [chunk({ role: 'assistant', content: toolCalls.length && !content ? null : '', refusal: null })];
    for (const piece of pieces(content, 12)) chunks.push(chunk({ content: piece }));
    toolCalls.forEach((call, index) => {
      chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
      for (const piece of pieces(call.arguments, 8)) chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    chunks.push(chunk({}, finishReason));
    if (includeUsage) chunks.push({ id, object: 'chat.completion.chunk', created, model: request.model, system_fingerprint: 'fp_fake', choices: [], usage });

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    log(200);
    for (const [index, data] of chunks.entries()) {
      if (index > 0 && reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(data)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  function embeddings(body: Record<string, unknown>, res: ServerResponse, log: (status: number) => void): void {
    const input = body.input;
    const texts = (Array.isArray(input) ? input : [input]).map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
    if (input === undefined || texts.length === 0) return sendJson(res, 400, errorBody(400, "'input' is a required property"), log);
    const base64 = body.encoding_format === 'base64';
    const tokens = texts.reduce((sum, text) => sum + estimateTokens(text.length), 0);
    sendJson(
      res,
      200,
      {
        object: 'list',
        data: texts.map((text, index) => {
          const vector = fakeEmbedding(text);
          return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
        }),
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      },
      log,
    );
  }

  function sendJson(res: ServerResponse, status: number, body: unknown, log: (status: number) => void, headers: Record<string, string> = {}): void {
    log(status);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake-openai').pathname;
    let body: Record<string, unknown> = {};
    let parseFailed = false;
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        parseFailed = true;
      }
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const stream = body.stream === true;
    const log = (status: number) => requests.push({ model, path, stream, status, at: Date.now(), body });
    try {
      await route(req, res, path, body, parseFailed, log);
    } catch (error) {
      // A reply handler threw: the test sees it as a 500 (or a cut stream) and in the log.
      if (res.headersSent) res.destroy(error as Error);
      else sendJson(res, 500, errorBody(500, (error as Error).message), log);
    }
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: Record<string, unknown>,
    parseFailed: boolean,
    log: (status: number) => void,
  ): Promise<void> {
    const model = typeof body.model === 'string' ? body.model : '';
    const stream = body.stream === true;

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, errorBody(401, 'Incorrect API key provided.', 'invalid_api_key'), log);
    }
    if (parseFailed) return sendJson(res, 400, errorBody(400, 'We could not parse the JSON body of your request.'), log);
    const failure = failures.get(model);
    if (failure && failure.remaining > 0 && req.method === 'POST') {
      failure.remaining -= 1;
      const headers: Record<string, string> = failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      const message = failure.status === 429 ? 'Rate limit reached for requests.' : 'The server had an error while processing your request.';
      return sendJson(res, failure.status, errorBody(failure.status, message), log, headers);
    }
    if (req.method === 'GET' && path === '/v1/models') {
      const ids = [...new Set([...scripts.keys(), ...failures.keys()])];
      return sendJson(res, 200, { object: 'list', data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-openai' })) }, log);
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      if (!model) return sendJson(res, 400, errorBody(400, "'model' is a required property"), log);
      if (!Array.isArray(body.messages) || body.messages.length === 0) return sendJson(res, 400, errorBody(400, "'messages' must be a non-empty array"), log);
      const tools = Array.isArray(body.tools) ? (body.tools as Array<{ function?: { name?: string } }>).map((tool) => tool.function?.name ?? '') : [];
      return chat({ model, messages: body.messages as Array<Record<string, unknown>>, tools, stream, body }, res, log);
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      if (!model) return sendJson(res, 400, errorBody(400, "'model' is a required property"), log);
      return embeddings(body, res, log);
    }
    sendJson(res, 404, errorBody(404, `Invalid URL (${req.method} ${path})`, 'unknown_url'), log);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    requestsFor: (model) => requests.filter((request) => request.model === model),
    script(model, replies) {
      scripts.set(model, { replies: [...replies], next: 0 });
    },
    failNext(model, count, status = 500, retryAfterSeconds) {
      failures.set(model, { remaining: count, status, retryAfterSeconds });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
