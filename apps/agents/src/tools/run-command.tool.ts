import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { APP_CONFIG } from '@multipult/config';
import type { AgentsConfig } from '../config';
import { AgentTool, RiskLevel, ToolContext, ToolInputError, ToolResult, parseToolArguments, toolParameters } from './agent-tool';
import { CommandRun, CommandRunner } from './command-runner';

export type RunCommandConfig = Pick<AgentsConfig, 'AGENTS_COMMAND_ALLOWLIST' | 'AGENTS_COMMAND_MAX_ARGS' | 'AGENTS_COMMAND_MAX_ARG_LENGTH'>;

const runCommandSchema = z.strictObject({
  command: z.string().min(1).max(4096).describe('The program to run: a plain name such as "grep", one of those allowed. No shell: pipes, redirects and $(...) are not interpreted.'),
  args: z.array(z.string()).default([]).describe('Its arguments, each passed literally. Paths must be relative to the workspace, without "..".'),
});
export type RunCommandArgs = z.output<typeof runCommandSchema>;

/** A plain program name; anything else (paths aside, which must be listed verbatim) is refused. */
const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Programs that only read, given arguments without their writing or executing options (see writes()). */
const READ_ONLY_PROGRAMS = new Set(['ls', 'cat', 'head', 'tail', 'wc', 'grep', 'sort', 'uniq', 'echo', 'diff', 'find']);
const FIND_ACTIONS_THAT_WRITE_OR_RUN = new Set(['-exec', '-execdir', '-delete', '-ok', '-okdir', '-fls']);

/**
 * Runs an allowed program in the workspace, without a shell or network. Its arguments cannot be
 * resolved as paths in general, so the network namespace and cwd are the boundary; absolute paths and
 * ".." segments in arguments are refused only as defence in depth.
 */
@Injectable()
export class RunCommandTool implements AgentTool<RunCommandArgs> {
  readonly name = 'run_command';
  readonly description =
    'Runs a program in the workspace without a shell and without network access, and returns its output (cut at a limit) and exit code.';
  readonly parameters = toolParameters(runCommandSchema);

  constructor(
    @Inject(APP_CONFIG) private readonly config: RunCommandConfig,
    private readonly runner: CommandRunner,
  ) {}

  parse(args: unknown): RunCommandArgs {
    const parsed = parseToolArguments(runCommandSchema, args);
    this.checkProgram(parsed.command);
    this.checkArguments(parsed.args);
    return parsed;
  }

  risk(args: RunCommandArgs): RiskLevel {
    return READ_ONLY_PROGRAMS.has(programName(args.command)) && !writes(programName(args.command), args.args) ? 'medium' : 'high';
  }

  approvalClass(args: RunCommandArgs): string {
    return `run_command:${programName(args.command)}`;
  }

  async execute(args: RunCommandArgs, context: ToolContext): Promise<ToolResult> {
    const run = await this.runner.run(args.command, args.args, { cwd: context.workspace.root, signal: context.signal });
    const { stdout: _stdout, stderr: _stderr, ...details } = run;
    return { output: describeRun(run), truncated: run.truncated, data: details };
  }

  private checkProgram(command: string): void {
    const allowlist = this.config.AGENTS_COMMAND_ALLOWLIST;
    const allowed = command.includes('/') ? path.isAbsolute(command) && allowlist.includes(command) : PROGRAM_NAME.test(command) && allowlist.includes(command);
    if (!allowed) {
      throw new ToolInputError('command_not_allowed', `${JSON.stringify(command)} is not a program you may run; allowed: ${allowlist.join(', ')}`);
    }
  }

  private checkArguments(args: readonly string[]): void {
    if (args.length > this.config.AGENTS_COMMAND_MAX_ARGS) {
      throw new ToolInputError('too_many_arguments', `at most ${this.config.AGENTS_COMMAND_MAX_ARGS} arguments`);
    }
    for (const arg of args) {
      if (arg.length > this.config.AGENTS_COMMAND_MAX_ARG_LENGTH) {
        throw new ToolInputError('argument_too_long', `each argument may have at most ${this.config.AGENTS_COMMAND_MAX_ARG_LENGTH} characters`);
      }
      if (arg.includes('\0')) throw new ToolInputError('invalid_arguments', 'arguments may not contain NUL bytes');
      // `--file=/etc/passwd` names a path after its '='.
      const equals = arg.indexOf('=');
      for (const candidate of equals === -1 ? [arg] : [arg, arg.slice(equals + 1)]) {
        if (path.isAbsolute(candidate) || candidate.split(/[\\/]/).includes('..')) {
          throw new ToolInputError('path_escape', `argument ${JSON.stringify(arg)} names a path outside the workspace; use paths relative to it`);
        }
      }
    }
  }
}

function programName(command: string): string {
  return path.basename(command);
}

/** Options by which the otherwise read-only programs write files or run others. */
function writes(program: string, args: readonly string[]): boolean {
  switch (program) {
    case 'find':
      return args.some((arg) => FIND_ACTIONS_THAT_WRITE_OR_RUN.has(arg) || arg.startsWith('-fprint'));
    case 'sort':
      return args.some((arg) => arg === '-o' || arg.startsWith('--output') || /^-[^-]*o/.test(arg));
    case 'uniq':
      // uniq INPUT OUTPUT writes OUTPUT.
      return args.filter((arg) => !arg.startsWith('-') || arg === '-').length >= 2;
    default:
      return false;
  }
}

function describeRun(run: CommandRun): string {
  const parts = [run.stdout];
  if (run.stderr !== '') parts.push(`--- stderr ---\n${run.stderr}`);
  if (run.truncated) parts.push('[output truncated at the limit; the command was stopped]');
  if (run.timedOut) parts.push('[timed out; the command was killed]');
  if (run.aborted) parts.push('[cancelled; the command was killed]');
  parts.push(run.exitCode === null ? `[ended by ${run.signal}]` : `[exit code ${run.exitCode}]`);
  return parts.filter((part) => part !== '').join('\n');
}
