import { createHash } from 'node:crypto';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ChatRequest, ChatResult, ChatToolCall, ModelUsage } from './model-gateway';
import { ModelSpec, SCRIPTED_PROVIDER } from './model-providers';

/** The built-in models' names under the `scripted` provider. */
export const SCRIPTED_CHAT_MODEL = 'planner';
export const SCRIPTED_EMBEDDING_MODEL = 'embeddings';

/** The line that, in a conversation's first system message, asks for a plan (the next JSON line lists the agents). */
export const PLANNER_MARKER = 'MULTIPULT-PLANNER';

export const SCRIPTED_EMBEDDING_DIMENSIONS = 64;

/** Free, with a context window large enough for any conversation the platform holds. */
export const SCRIPTED_SPECS: Record<string, ModelSpec> = {
  [SCRIPTED_CHAT_MODEL]: { inputUsdPerMTok: 0, outputUsdPerMTok: 0, contextTokens: 128_000, embeddings: false },
  [SCRIPTED_EMBEDDING_MODEL]: { inputUsdPerMTok: 0, outputUsdPerMTok: 0, contextTokens: 8192, embeddings: true },
};

export interface PlannedTask {
  key: string;
  agentId: string;
  title: string;
  prompt: string;
  dependsOn: string[];
}

interface PlannerAgent {
  id: string;
  name: string;
  description: string;
}

const MAX_PARALLEL_TASKS = 3;
const QUOTED_CHARS = 200;

/** Rough tokens of a text of `chars` characters (4 a token): usage a server does not report, budgets, fitting chat history. */
export const estimateTokens = (chars: number) => Math.ceil(chars / 4);

/** The text of a message's content: a string, or its text parts joined. */
export function messageText(message: ChatCompletionMessageParam): string {
  const content = message.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

/** Characters a conversation sends: message texts, and the names and arguments of the tool calls in it. */
export function conversationChars(messages: ChatCompletionMessageParam[]): number {
  let chars = 0;
  for (const message of messages) {
    chars += messageText(message).length;
    if (message.role === 'assistant') {
      for (const call of message.tool_calls ?? []) {
        chars += call.type === 'function' ? call.function.name.length + call.function.arguments.length : call.custom.name.length + call.custom.input.length;
      }
    }
  }
  return chars;
}

export function toolName(tool: ChatCompletionTool): string {
  return tool.type === 'function' ? tool.function.name : tool.custom.name;
}

/** The agents a planner request lists, or null when the first system message is not one. */
function plannerAgents(messages: ChatCompletionMessageParam[]): PlannerAgent[] | null {
  const system = messages.find((message) => message.role === 'system');
  if (!system) return null;
  const lines = messageText(system).split('\n').map((line) => line.trim());
  const marker = lines.indexOf(PLANNER_MARKER);
  if (marker < 0) return null;
  const json = lines.slice(marker + 1).find((line) => line.startsWith('{'));
  if (!json) return null;
  try {
    const agents = (JSON.parse(json) as { agents?: unknown }).agents;
    if (!Array.isArray(agents)) return null;
    return agents
      .filter((agent): agent is Record<string, unknown> => typeof agent === 'object' && agent !== null && typeof (agent as { id?: unknown }).id === 'string')
      .map((agent) => ({ id: agent.id as string, name: String(agent.name ?? agent.id), description: String(agent.description ?? '') }));
  } catch {
    return null;
  }
}

/** One independent task per agent (at most three), then one on the first agent combining their results. */
export function scriptedPlan(agents: PlannerAgent[], goal: string): PlannedTask[] {
  const quoted = goal.slice(0, QUOTED_CHARS);
  const parallel = agents.slice(0, MAX_PARALLEL_TASKS).map((agent, index) => ({
    key: `t${index + 1}`,
    agentId: agent.id,
    title: `${agent.name}: ${quoted.split('\n')[0].slice(0, 80)}`,
    prompt: agent.description ? `As ${agent.name} (${agent.description}), work on: ${quoted}` : `As ${agent.name}, work on: ${quoted}`,
    dependsOn: [],
  }));
  if (parallel.length === 0) return [];
  const keys = parallel.map((task) => task.key);
  return [
    ...parallel,
    {
      key: `t${parallel.length + 1}`,
      agentId: agents[0].id,
      title: 'Combine the results',
      prompt: `Combine the results of ${keys.join(', ')} into one answer to: ${quoted}`,
      dependsOn: keys,
    },
  ];
}

/** A line per tool result in the conversation: which tool, and how many lines it returned. */
function toolResultSummaries(messages: ChatCompletionMessageParam[]): string[] {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const call of message.tool_calls ?? []) names.set(call.id, call.type === 'function' ? call.function.name : call.custom.name);
  }
  return messages.flatMap((message) => {
    if (message.role !== 'tool') return [];
    const text = messageText(message).replace(/\n+$/, '');
    const lines = text === '' ? 0 : text.split('\n').length;
    return [`${names.get(message.tool_call_id) ?? 'a tool'} returned ${lines} line${lines === 1 ? '' : 's'}`];
  });
}

/** Deterministic ids: the same conversation gets the same call id. */
function callId(messages: ChatCompletionMessageParam[], name: string): string {
  return `call_scripted_${createHash('sha256').update(JSON.stringify(messages)).update(name).digest('hex').slice(0, 16)}`;
}

/**
 * The built-in model used when no provider is configured: no network, the same answer for the same
 * conversation. It plans (one task per agent, then a combining one), calls a tool once when tools
 * are offered, then answers quoting the request and summarising the tool results.
 * Not a real model; production refuses it.
 */
export class ScriptedModel {
  /** Answers a `scripted/planner` request; content arrives through `onDelta` word by word. */
  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = Date.now();
    const { messages } = request;
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const goal = lastUser ? messageText(lastUser) : '';
    const tools = (request.tools ?? []).map(toolName);
    let content: string | null = null;
    let toolCalls: ChatToolCall[] = [];

    const agents = plannerAgents(messages);
    if (agents) {
      content = JSON.stringify({ tasks: scriptedPlan(agents, goal) });
    } else if (tools.length > 0 && !messages.some((message) => message.role === 'tool')) {
      const name = tools.includes('list_directory') ? 'list_directory' : tools[0];
      toolCalls = [{ id: callId(messages, name), name, arguments: name === 'list_directory' ? JSON.stringify({ path: '.' }) : '{}' }];
    } else {
      content = [`Scripted answer to: ${goal.slice(0, QUOTED_CHARS)}`, ...toolResultSummaries(messages)].join('\n');
    }

    for (const word of content?.match(/\S+\s*|\s+/g) ?? []) {
      request.signal?.throwIfAborted();
      request.onDelta?.(word);
    }
    request.signal?.throwIfAborted();
    const answerChars = (content ?? '').length + toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
    return {
      content,
      toolCalls,
      finishReason: toolCalls.length ? 'tool_calls' : 'stop',
      usage: { promptTokens: estimateTokens(conversationChars(messages)), completionTokens: estimateTokens(answerChars), costUsd: 0 },
      model: `${SCRIPTED_PROVIDER}/${SCRIPTED_CHAT_MODEL}`,
      latencyMs: Date.now() - started,
      scripted: true,
    };
  }

  /** Hashed bag of words: each word adds ±1 to one of 64 dimensions; unit length (all zeros for text without words). */
  embed(inputs: string[]): { vectors: number[][]; usage: ModelUsage } {
    const vectors = inputs.map((text) => {
      const vector = new Array<number>(SCRIPTED_EMBEDDING_DIMENSIONS).fill(0);
      for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
        const hash = createHash('sha256').update(word).digest();
        vector[hash.readUInt32BE(0) % SCRIPTED_EMBEDDING_DIMENSIONS] += hash[4] & 1 ? 1 : -1;
      }
      const norm = Math.hypot(...vector);
      return norm === 0 ? vector : vector.map((value) => value / norm);
    });
    const promptTokens = inputs.reduce((sum, text) => sum + estimateTokens(text.length), 0);
    return { vectors, usage: { promptTokens, completionTokens: 0, costUsd: 0 } };
  }
}
