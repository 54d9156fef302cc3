import { Injectable } from '@nestjs/common';
import { AgentTool, TOOL_NAME_PATTERN } from './agent-tool';

/** An OpenAI chat completions function tool definition. */
export interface FunctionToolDefinition {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** The tools agents may call, by name: the built-ins and whatever a deployment passes to ToolsModule.forRoot. */
@Injectable()
export class ToolRegistry {
  private readonly tools = new Map<string, AgentTool<object>>();

  /** Throws on a malformed or already registered name, so two tools never answer to one. */
  register(tool: AgentTool<object>): void {
    if (!TOOL_NAME_PATTERN.test(tool.name)) throw new Error(`tool name ${JSON.stringify(tool.name)} must match ${TOOL_NAME_PATTERN}`);
    if (this.tools.has(tool.name)) throw new Error(`a tool named ${tool.name} is already registered`);
    this.tools.set(tool.name, tool);
  }

  get(name: string): AgentTool<object> | undefined {
    return this.tools.get(name);
  }

  list(): AgentTool<object>[] {
    return [...this.tools.values()];
  }

  /** Definitions of the named tools, in that order, for the model request; throws on a name not registered. */
  definitions(names: readonly string[]): FunctionToolDefinition[] {
    return names.map((name) => {
      const tool = this.tools.get(name);
      if (!tool) throw new Error(`no tool named ${name} is registered`);
      return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
    });
  }
}
