import { DynamicModule, Global, Module, Type } from '@nestjs/common';
import type { AgentTool } from './agent-tool';
import { CommandRunner } from './command-runner';
import { ListDirectoryTool, ReadFileTool, SearchFilesTool, WriteFileTool } from './file-tools';
import { RunCommandTool } from './run-command.tool';
import { ToolRegistry } from './tool-registry';
import { WorkspaceFactory } from './workspace';

export const BUILTIN_TOOLS = [ReadFileTool, WriteFileTool, ListDirectoryTool, SearchFilesTool, RunCommandTool] as const;
export const BUILTIN_TOOL_NAMES = ['read_file', 'write_file', 'list_directory', 'search_files', 'run_command'] as const;
export type BuiltinToolName = (typeof BUILTIN_TOOL_NAMES)[number];

export interface ToolsModuleOptions {
  /** Further tool classes; Nest instantiates them (they may inject any provider) and they are registered beside the built-ins. */
  tools?: Type<AgentTool<object>>[];
}

/** Workspaces, the command runner and the tool registry, for every module (needs ConfigModule's APP_CONFIG). */
@Global()
@Module({})
export class ToolsModule {
  static forRoot(options: ToolsModuleOptions = {}): DynamicModule {
    const toolClasses: Type<AgentTool<object>>[] = [...BUILTIN_TOOLS, ...(options.tools ?? [])];
    return {
      module: ToolsModule,
      providers: [
        WorkspaceFactory,
        CommandRunner,
        ...toolClasses,
        {
          provide: ToolRegistry,
          inject: toolClasses,
          useFactory: (...tools: AgentTool<object>[]) => {
            const registry = new ToolRegistry();
            for (const tool of tools) registry.register(tool);
            return registry;
          },
        },
      ],
      exports: [WorkspaceFactory, CommandRunner, ToolRegistry],
    };
  }
}
