import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { AddressInfo, Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import type { ToolContext } from './agent-tool';
import { CommandRunner, CommandRunnerConfig } from './command-runner';
import { RunCommandConfig, RunCommandTool } from './run-command.tool';
import { WorkspaceFactory } from './workspace';

const baseConfig: RunCommandConfig & CommandRunnerConfig = {
  AGENTS_COMMAND_ALLOWLIST: ['echo', 'cat', 'ls', 'grep', 'find', 'sort', 'uniq', 'sleep', 'sh', 'head', 'pwd', 'env', process.execPath],
  AGENTS_COMMAND_MAX_ARGS: 6,
  AGENTS_COMMAND_MAX_ARG_LENGTH: 256,
  AGENTS_COMMAND_TIMEOUT_MS: 5_000,
  AGENTS_COMMAND_MAX_OUTPUT_BYTES: 1024,
  AGENTS_COMMAND_NETWORK_ISOLATION: 'required',
};

/** A script for `node -e` printing whether it could open a TCP connection to 127.0.0.1:<port>. */
const connectScript = (port: number) =>
  `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (error) => { console.log('refused ' + error.code); process.exit(3); })`;

describe('run_command', () => {
  let base: string;
  let context: ToolContext;

  const toolWith = async (overrides: Partial<typeof baseConfig> = {}, wrappers?: string[][]) => {
    const config = { ...baseConfig, ...overrides };
    const runner = new CommandRunner(config, wrappers);
    await runner.onModuleInit();
    return { tool: new RunCommandTool(config, runner), runner };
  };
  const run = async (tool: RunCommandTool, args: unknown) => tool.execute(tool.parse(args), context);

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'agent-commands-')));
    const tenantId = randomUUID();
    const userId = randomUUID();
    context = { workspace: await new WorkspaceFactory({ AGENTS_WORKSPACE_DIR: base }).forUser(tenantId, userId), signal: new AbortController().signal, tenantId, userId };
  });

  afterEach(() => rm(base, { recursive: true, force: true }));

  it('runs in a network namespace on this machine (root, unshare --net works)', async () => {
    const { runner, tool } = await toolWith();
    expect(runner.isolation).toBe('network-namespace');
    const result = await run(tool, { command: 'echo', args: ['hello'] });
    expect(result.output).toBe('hello\n\n[exit code 0]');
    expect(result.data).toMatchObject({ exitCode: 0, isolation: 'network-namespace', truncated: false, timedOut: false });
  });

  it('runs in the workspace with a minimal environment (HOME is the workspace)', async () => {
    const { tool } = await toolWith();
    expect((await run(tool, { command: 'pwd' })).output).toBe(`${context.workspace.root}\n\n[exit code 0]`);
    const environment = (await run(tool, { command: 'env' })).output.split('\n').filter((line) => line.includes('='));
    expect(environment.map((line) => line.split('=')[0]).sort()).toEqual(['HOME', 'LANG', 'PATH']);
    expect(environment).toContain(`HOME=${context.workspace.root}`);
  });

  it('passes shell metacharacters literally: there is no shell', async () => {
    const { tool } = await toolWith();
    const result = await run(tool, { command: 'echo', args: ['$(id); rm -rf /', '`whoami` | cat > x && ls'] });
    expect(result.output).toBe('$(id); rm -rf / `whoami` | cat > x && ls\n\n[exit code 0]');
    await expect(readFile(path.join(context.workspace.root, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses programs not in the allowlist, paths to programs, and commands that are not a plain name', async () => {
    const { tool } = await toolWith();
    for (const command of ['rm', 'curl', '/bin/echo', './echo', 'echo hello', 'echo;id', '$(id)', '../../bin/sh']) {
      expect(() => tool.parse({ command, args: [] })).toThrow(expect.objectContaining({ reason: 'command_not_allowed' }));
    }
    // An absolute path runs when exactly that path is listed.
    expect((await run(tool, { command: process.execPath, args: ['-e', 'console.log(6 * 7)'] })).output).toBe('42\n\n[exit code 0]');
  });

  it('limits the count and length of arguments, and refuses absolute paths and ".." in them', async () => {
    const { tool } = await toolWith();
    expect(() => tool.parse({ command: 'echo', args: ['1', '2', '3', '4', '5', '6', '7'] })).toThrow(expect.objectContaining({ reason: 'too_many_arguments' }));
    expect(() => tool.parse({ command: 'echo', args: ['x'.repeat(257)] })).toThrow(expect.objectContaining({ reason: 'argument_too_long' }));
    for (const arg of ['/etc/passwd', '../other', 'a/../../b', '--file=/etc/shadow', '..']) {
      expect(() => tool.parse({ command: 'cat', args: [arg] })).toThrow(expect.objectContaining({ reason: 'path_escape' }));
    }
    expect(() => tool.parse({ command: 'echo', args: 'not a list' })).toThrow(expect.objectContaining({ reason: 'invalid_arguments' }));
  });

  it('kills the whole process group on timeout', async () => {
    const { tool } = await toolWith({ AGENTS_COMMAND_TIMEOUT_MS: 300 });
    const started = Date.now();
    // sh starts sleep as a child: both must die for the run to end.
    const result = await run(tool, { command: 'sh', args: ['-c', 'sleep 30 & sleep 30; echo'] });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.data).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null });
    expect(result.output).toContain('[timed out; the command was killed]');
  });

  it('stops when the task is cancelled', async () => {
    const { tool } = await toolWith();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await tool.execute(tool.parse({ command: 'sleep', args: ['30'] }), { ...context, signal: controller.signal });
    expect(result.data).toMatchObject({ aborted: true, signal: 'SIGKILL' });
  });

  it('cuts output at AGENTS_COMMAND_MAX_OUTPUT_BYTES and says so', async () => {
    const { tool } = await toolWith();
    const result = await run(tool, { command: process.execPath, args: ['-e', "process.stdout.write('y'.repeat(100000))"] });
    expect(result.truncated).toBe(true);
    expect(result.output.startsWith('y'.repeat(1024))).toBe(true);
    expect(result.output).not.toContain('y'.repeat(1025));
    expect(result.output).toContain('[output truncated at the limit; the command was stopped]');
  });

  it('returns stderr and a failing exit code', async () => {
    const { tool } = await toolWith();
    const result = await run(tool, { command: 'cat', args: ['missing.txt'] });
    expect(result.output).toMatch(/^--- stderr ---\ncat: missing.txt: No such file or directory\n\n\[exit code 1\]$/);
  });

  describe('network', () => {
    let server: Server;
    let port: number;

    beforeEach(async () => {
      server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('cannot reach a server on 127.0.0.1 from inside the namespace, while the same command without one can', async () => {
      const isolated = await toolWith();
      const blocked = await run(isolated.tool, { command: process.execPath, args: ['-e', connectScript(port)] });
      expect(blocked.data).toMatchObject({ isolation: 'network-namespace', exitCode: 3 });
      expect(blocked.output).toMatch(/^refused E[A-Z]+/);

      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const unisolated = await toolWith({ AGENTS_COMMAND_NETWORK_ISOLATION: 'auto' }, []);
      expect(unisolated.runner.isolation).toBe('none');
      await unisolated.runner.probe();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(/network isolation of commands is OFF/);
      warn.mockRestore();
      const reached = await run(unisolated.tool, { command: process.execPath, args: ['-e', connectScript(port)] });
      expect(reached.data).toMatchObject({ isolation: 'none', exitCode: 0 });
      expect(reached.output).toBe('connected\n\n[exit code 0]');
    });

    it('refuses to run without isolation when it is required and none works here', async () => {
      const { tool, runner } = await toolWith({ AGENTS_COMMAND_NETWORK_ISOLATION: 'required' }, [['no-such-isolation-wrapper']]);
      expect(runner.isolation).toBe('none');
      await expect(run(tool, { command: 'echo', args: ['hi'] })).rejects.toMatchObject({ reason: 'network_isolation_unavailable' });
    });
  });

  it('rates read-only programs medium and anything else (or their writing options) high; approval class per program', async () => {
    const { tool } = await toolWith();
    const risk = (command: string, args: string[] = []) => tool.risk(tool.parse({ command, args }));
    expect(risk('cat', ['a.txt'])).toBe('medium');
    expect(risk('grep', ['-rn', 'todo', '.'])).toBe('medium');
    expect(risk('find', ['.', '-name', '*.ts'])).toBe('medium');
    expect(risk('sort', ['a.txt'])).toBe('medium');
    expect(risk('uniq', ['a.txt'])).toBe('medium');
    expect(risk('find', ['.', '-delete'])).toBe('high');
    expect(risk('find', ['.', '-exec', 'rm', '{}', ';'])).toBe('high');
    expect(risk('find', ['.', '-fprintf', 'out', '%p'])).toBe('high');
    expect(risk('sort', ['-o', 'a.txt', 'a.txt'])).toBe('high');
    expect(risk('uniq', ['in.txt', 'out.txt'])).toBe('high');
    expect(risk('sh', ['-c', 'ls'])).toBe('high');
    expect(risk(process.execPath, ['-e', '1'])).toBe('high');
    expect(tool.approvalClass(tool.parse({ command: 'grep', args: ['x'] }))).toBe('run_command:grep');
    expect(tool.approvalClass(tool.parse({ command: process.execPath, args: [] }))).toBe(`run_command:${path.basename(process.execPath)}`);
  });
});
