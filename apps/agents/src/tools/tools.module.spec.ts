import { randomUUID } from 'node:crypto';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Global, Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { z } from 'zod';
import { ConfigModule } from '@multipult/config';
import { AgentTool, RiskLevel, ToolResult, parseToolArguments, toolParameters } from './agent-tool';
import { CommandRunner, CommandRunnerConfig } from './command-runner';
import type { FileToolsConfig } from './file-tools';
import type { RunCommandConfig } from './run-command.tool';
import { ToolRegistry } from './tool-registry';
import { BUILTIN_TOOL_NAMES, ToolsModule } from './tools.module';
import { WorkspaceFactory } from './workspace';

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello, ${name}`;
  }
}

@Global()
@Module({ providers: [Greeter], exports: [Greeter] })
class GreeterModule {}

const greetSchema = z.strictObject({ name: z.string().min(1) });

/** A deployment's own tool: instantiated by Nest, so it can inject a service. */
@Injectable()
class GreetTool implements AgentTool<z.output<typeof greetSchema>> {
  readonly name: string = 'greet';
  readonly description = 'Greets someone.';
  readonly parameters = toolParameters(greetSchema);

  constructor(private readonly greeter: Greeter) {}

  parse(args: unknown) {
    return parseToolArguments(greetSchema, args);
  }

  risk(): RiskLevel {
    return 'low';
  }

  approvalClass(): string {
    return this.name;
  }

  async execute(args: z.output<typeof greetSchema>): Promise<ToolResult> {
    return { output: this.greeter.greet(args.name) };
  }
}

@Injectable()
class ImpostorReadFileTool extends GreetTool {
  override readonly name = 'read_file';
}

describe('ToolsModule', () => {
  let base: string;
  let config: FileToolsConfig & RunCommandConfig & CommandRunnerConfig & { AGENTS_WORKSPACE_DIR: string };

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'agent-tools-module-')));
    config = {
      AGENTS_WORKSPACE_DIR: base,
      AGENTS_FILE_MAX_BYTES: 1024 * 1024,
      AGENTS_COMMAND_ALLOWLIST: ['echo'],
      AGENTS_COMMAND_MAX_ARGS: 8,
      AGENTS_COMMAND_MAX_ARG_LENGTH: 256,
      AGENTS_COMMAND_TIMEOUT_MS: 5_000,
      AGENTS_COMMAND_MAX_OUTPUT_BYTES: 4096,
      AGENTS_COMMAND_NETWORK_ISOLATION: 'required',
    };
  });

  afterEach(() => rm(base, { recursive: true, force: true }));

  const compile = (tools: NonNullable<Parameters<typeof ToolsModule.forRoot>[0]>['tools']): Promise<TestingModule> =>
    Test.createTestingModule({ imports: [ConfigModule.forRoot(config), GreeterModule, ToolsModule.forRoot({ tools })] }).compile();

  it('registers the built-ins and a deployment tool that injects a service, and describes them for function calling', async () => {
    const moduleRef = await compile([GreetTool]);
    await moduleRef.init();
    const registry = moduleRef.get(ToolRegistry);
    expect(registry.list().map((tool) => tool.name)).toEqual([...BUILTIN_TOOL_NAMES, 'greet']);

    const userId = randomUUID();
    const context = { workspace: await moduleRef.get(WorkspaceFactory).forUser(randomUUID(), userId), signal: new AbortController().signal, tenantId: randomUUID(), userId };
    const greet = registry.get('greet');
    expect(await greet?.execute(greet.parse({ name: 'Ada' }), context)).toEqual({ output: 'hello, Ada' });
    expect(registry.definitions(['greet', 'read_file'])).toEqual([
      {
        type: 'function',
        function: {
          name: 'greet',
          description: 'Greets someone.',
          parameters: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'], additionalProperties: false },
        },
      },
      { type: 'function', function: expect.objectContaining({ name: 'read_file', parameters: expect.objectContaining({ type: 'object' }) }) },
    ]);
    expect(() => registry.definitions(['greet', 'launch_missiles'])).toThrow('no tool named launch_missiles is registered');
    expect(registry.get('launch_missiles')).toBeUndefined();

    // The runner probed isolation at init; the workspace factory and runner are shared with other modules.
    expect(moduleRef.get(CommandRunner).isolation).toBe('network-namespace');
    const echo = registry.get('run_command');
    const result = await echo?.execute(echo.parse({ command: 'echo', args: ['from the module'] }), context);
    expect(result?.output).toBe('from the module\n\n[exit code 0]');
    await moduleRef.close();
  });

  it('refuses a tool whose name is already taken', async () => {
    await expect(compile([ImpostorReadFileTool])).rejects.toThrow('a tool named read_file is already registered');
  });

  it('refuses malformed tool names', () => {
    const registry = new ToolRegistry();
    const tool = { name: 'Bad-Name', description: '', parameters: {}, parse: () => ({}), risk: () => 'low' as const, approvalClass: () => 'x', execute: async () => ({ output: '' }) };
    expect(() => registry.register(tool)).toThrow(/must match/);
  });
});
