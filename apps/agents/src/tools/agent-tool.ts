import { z } from 'zod';
import type { Workspace } from './workspace';

export type RiskLevel = 'low' | 'medium' | 'high';

/** What a tool call runs for: the calling user's workspace, and a signal aborted when the task is cancelled. */
export interface ToolContext {
  workspace: Workspace;
  signal: AbortSignal;
  tenantId: string;
  userId: string;
}

export interface ToolResult {
  /** Text given back to the model, already truncated to the tool's bounds. */
  output: string;
  truncated?: boolean;
  /** Structured details for logs and the task record (never sent to the model). */
  data?: unknown;
}

/**
 * A tool an agent may call. Deployments add their own by passing classes implementing this to
 * ToolsModule.forRoot({ tools }); Nest instantiates them, so they can inject services.
 */
export interface AgentTool<A extends object = Record<string, unknown>> {
  /** Matches TOOL_NAME_PATTERN; the name the model calls it by. */
  readonly name: string;
  readonly description: string;
  /** JSON Schema (type object) of the arguments, for OpenAI function calling. */
  readonly parameters: Record<string, unknown>;
  /** Validates the model's arguments; throws ToolInputError. */
  parse(args: unknown): A;
  risk(args: A): RiskLevel;
  /** Groups calls for batch approval, e.g. 'write_file' or 'run_command:grep'. */
  approvalClass(args: A): string;
  execute(args: A, context: ToolContext): Promise<ToolResult>;
}

export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_]{1,63}$/;

export type ToolInputErrorReason =
  | 'path_escape'
  | 'command_not_allowed'
  | 'argument_too_long'
  | 'too_many_arguments'
  | 'invalid_arguments'
  | 'not_found'
  | 'file_too_large'
  | 'network_isolation_unavailable';

/** A call the tool refuses; `message` is safe to give back to the model. */
export class ToolInputError extends Error {
  constructor(
    readonly reason: ToolInputErrorReason | (string & {}),
    message: string,
  ) {
    super(message);
    this.name = 'ToolInputError';
  }
}

/** The JSON Schema of a zod object schema as OpenAI function calling takes it (input shape: defaulted fields optional). */
export function toolParameters(schema: z.ZodObject): Record<string, unknown> {
  const { $schema: _dialect, ...parameters } = z.toJSONSchema(schema, { io: 'input' });
  return parameters;
}

/** Parses with zod, turning its error into ToolInputError('invalid_arguments') with a message the model can act on. */
export function parseToolArguments<S extends z.ZodType>(schema: S, args: unknown): z.output<S> {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  throw new ToolInputError('invalid_arguments', z.prettifyError(parsed.error));
}
