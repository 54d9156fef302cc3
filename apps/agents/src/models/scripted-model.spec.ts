import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { ChatRequest } from './model-gateway';
import { PLANNER_MARKER, ScriptedModel } from './scripted-model';

const model = new ScriptedModel();

const tool = (name: string): ChatCompletionTool => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } });

const plannerSystem = (agents: Array<{ id: string; name: string; description: string }>): ChatCompletionMessageParam => ({
  role: 'system',
  content: ['You split a goal into tasks for agents.', PLANNER_MARKER, JSON.stringify({ agents }), 'Answer with JSON only.'].join('\n'),
});

const request = (messages: ChatCompletionMessageParam[], tools: string[] = []): ChatRequest => ({
  model: 'scripted/planner',
  messages,
  ...(tools.length ? { tools: tools.map(tool) } : {}),
});

describe('ScriptedModel', () => {
  it('plans one independent task per agent (at most three) and a final one on the first agent combining them', async () => {
    const agents = ['a1', 'a2', 'a3', 'a4'].map((id, index) => ({ id, name: `Agent ${index + 1}`, description: `does part ${index + 1}` }));

    const result = await model.chat(request([plannerSystem(agents), { role: 'user', content: 'Write the release notes' }]));

    expect(result.finishReason).toBe('stop');
    expect(JSON.parse(result.content ?? '')).toEqual({
      tasks: [
        { key: 't1', agentId: 'a1', title: 'Agent 1: Write the release notes', prompt: 'As Agent 1 (does part 1), work on: Write the release notes', dependsOn: [] },
        { key: 't2', agentId: 'a2', title: 'Agent 2: Write the release notes', prompt: 'As Agent 2 (does part 2), work on: Write the release notes', dependsOn: [] },
        { key: 't3', agentId: 'a3', title: 'Agent 3: Write the release notes', prompt: 'As Agent 3 (does part 3), work on: Write the release notes', dependsOn: [] },
        { key: 't4', agentId: 'a1', title: 'Combine the results', prompt: 'Combine the results of t1, t2, t3 into one answer to: Write the release notes', dependsOn: ['t1', 't2', 't3'] },
      ],
    });
  });

  it('plans even for tools offered, and only when the marker is in the first system message', async () => {
    const planned = await model.chat(request([plannerSystem([{ id: 'solo', name: 'Solo', description: '' }]), { role: 'user', content: 'Go' }], ['list_directory']));
    const notPlanned = await model.chat(
      request([
        { role: 'system', content: 'An ordinary agent.' },
        { role: 'system', content: `${PLANNER_MARKER}\n{"agents":[{"id":"x","name":"X","description":""}]}` },
        { role: 'user', content: 'Go' },
      ]),
    );

    expect(JSON.parse(planned.content ?? '').tasks.map((task: { key: string; dependsOn: string[] }) => [task.key, task.dependsOn])).toEqual([
      ['t1', []],
      ['t2', ['t1']],
    ]);
    expect(notPlanned.content).toBe('Scripted answer to: Go');
  });

  it('calls list_directory on "." when it is offered and no tool has answered yet, else the first tool with {}', async () => {
    const listing = await model.chat(request([{ role: 'user', content: 'What is here?' }], ['read_file', 'list_directory']));
    const other = await model.chat(request([{ role: 'user', content: 'What is here?' }], ['read_file', 'write_file']));

    expect(listing).toMatchObject({ content: null, finishReason: 'tool_calls', toolCalls: [{ id: expect.stringMatching(/^call_scripted_/), name: 'list_directory', arguments: '{"path":"."}' }] });
    expect(other.toolCalls).toEqual([{ id: expect.any(String), name: 'read_file', arguments: '{}' }]);
  });

  it('answers quoting the last user message and summarising each tool result, word by word', async () => {
    const long = `Please look ${'very '.repeat(60)}closely`;
    const deltas: string[] = [];

    const result = await model.chat({
      ...request(
        [
          { role: 'user', content: 'earlier question' },
          { role: 'user', content: long },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'list_directory', arguments: '{"path":"."}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'a.txt\nb.txt\nsrc/\n' },
        ],
        ['list_directory'],
      ),
      onDelta: (text) => deltas.push(text),
    });

    expect(result.content).toBe(`Scripted answer to: ${long.slice(0, 200)}\nlist_directory returned 3 lines`);
    expect(result.toolCalls).toEqual([]);
    expect(deltas.join('')).toBe(result.content);
    expect(deltas.every((delta) => delta.trim().split(/\s+/).length === 1)).toBe(true);
    expect(result.usage).toEqual({ promptTokens: Math.ceil(('earlier question'.length + long.length + 'list_directory{"path":"."}'.length + 'a.txt\nb.txt\nsrc/\n'.length) / 4), completionTokens: Math.ceil((result.content ?? '').length / 4), costUsd: 0 });
  });

  it('answers the same conversation the same way every time', async () => {
    const conversation = request([{ role: 'user', content: 'Count the files' }], ['list_directory']);

    const [first, second] = await Promise.all([model.chat(conversation), model.chat(conversation)]);

    expect({ ...second, latencyMs: 0 }).toEqual({ ...first, latencyMs: 0 });
    expect(model.embed(['the same words'])).toEqual(model.embed(['the same words']));
  });

  it('embeds as hashed bags of words: unit vectors of 64 dimensions, shared words bring texts closer', () => {
    const { vectors, usage } = model.embed(['deploy the billing service', 'billing service deploy failed', 'banana bread recipe', '']);
    const cosine = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * b[index], 0);

    expect(vectors.map((vector) => vector.length)).toEqual([64, 64, 64, 64]);
    expect(Math.hypot(...vectors[0])).toBeCloseTo(1, 10);
    expect(cosine(vectors[0], vectors[1])).toBeGreaterThan(cosine(vectors[0], vectors[2]));
    expect(vectors[3].every((value) => value === 0)).toBe(true);
    expect(usage).toEqual({ promptTokens: 7 + 8 + 5 + 0, completionTokens: 0, costUsd: 0 });
  });
});
