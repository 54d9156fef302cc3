import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import type { AgentsConfig } from '../config';
import { ToolInputError } from './agent-tool';

export type NetworkIsolation = 'network-namespace' | 'none';

export type CommandRunnerConfig = Pick<
  AgentsConfig,
  'AGENTS_COMMAND_TIMEOUT_MS' | 'AGENTS_COMMAND_MAX_OUTPUT_BYTES' | 'AGENTS_COMMAND_NETWORK_ISOLATION'
>;

/**
 * Wrappers that run a program in a new, empty network namespace, tried in order at startup: the
 * first works without privileges where user namespaces are allowed, the second needs root.
 */
export const DEFAULT_NETWORK_ISOLATION_WRAPPERS: readonly (readonly string[])[] = [
  ['unshare', '--net', '--map-root-user', '--'],
  ['unshare', '--net', '--'],
];

/** Overrides DEFAULT_NETWORK_ISOLATION_WRAPPERS (e.g. a bubblewrap invocation); an empty list means no isolation is available. */
export const NETWORK_ISOLATION_WRAPPERS = Symbol('NETWORK_ISOLATION_WRAPPERS');

export interface CommandRun {
  exitCode: number | null;
  /** The signal that ended it (SIGKILL after a timeout, cancellation or too much output). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Output went past AGENTS_COMMAND_MAX_OUTPUT_BYTES: it was cut there and the process killed. */
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  isolation: NetworkIsolation;
  durationMs: number;
}

export interface RunOptions {
  cwd: string;
  signal?: AbortSignal;
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Runs a program without a shell, in its own process group (killed whole on timeout) and, where the
 * OS allows, its own network namespace, which is the boundary for commands: they have no network,
 * while the file system they see is the service's own (cwd in the workspace, no path checks of arguments).
 */
@Injectable()
export class CommandRunner implements OnModuleInit {
  private readonly logger = new Logger(CommandRunner.name);
  private probed?: Promise<readonly string[] | undefined>;
  private wrapper?: readonly string[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: CommandRunnerConfig,
    @Optional() @Inject(NETWORK_ISOLATION_WRAPPERS) private readonly wrappers: readonly (readonly string[])[] = DEFAULT_NETWORK_ISOLATION_WRAPPERS,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.probe();
  }

  /** Which isolation commands run with; 'none' until the startup probe has found a wrapper. */
  get isolation(): NetworkIsolation {
    return this.wrapper ? 'network-namespace' : 'none';
  }

  /** Finds, once, the first wrapper that works here; logs a warning when there is none and 'auto' lets commands run without. */
  probe(): Promise<NetworkIsolation> {
    this.probed ??= this.findWrapper().then((wrapper) => {
      this.wrapper = wrapper;
      if (wrapper) this.logger.log(`commands run in their own network namespace (${wrapper.join(' ')})`);
      else if (this.config.AGENTS_COMMAND_NETWORK_ISOLATION === 'auto') {
        this.logger.warn('network isolation of commands is OFF: no network namespace could be created here (unshare --net failed), so commands run with the host network');
      } else this.logger.error('no network namespace can be created here and AGENTS_COMMAND_NETWORK_ISOLATION=required: run_command is refused');
      return wrapper;
    });
    return this.probed.then(() => this.isolation);
  }

  /** Runs `program` (looked up in the minimal env's PATH) with `args` in `cwd`, with HOME=cwd, PATH and LANG only. */
  async run(program: string, args: readonly string[], options: RunOptions): Promise<CommandRun> {
    await this.probe();
    if (!this.wrapper && this.config.AGENTS_COMMAND_NETWORK_ISOLATION === 'required') {
      throw new ToolInputError('network_isolation_unavailable', 'commands cannot be run here: they must run without network access and this host cannot provide that');
    }
    const [file, ...fileArgs] = this.wrapper ? [...this.wrapper, program, ...args] : [program, ...args];
    return this.spawnBounded(file, fileArgs, options);
  }

  private spawnBounded(file: string, args: string[], { cwd, signal }: RunOptions): Promise<CommandRun> {
    const isolation = this.isolation;
    const limit = this.config.AGENTS_COMMAND_MAX_OUTPUT_BYTES;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        cwd,
        env: { PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so a timeout kills whatever it started too.
        detached: true,
        shell: false,
      });
      const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
      let bytes = 0;
      let truncated = false;
      let timedOut = false;
      let aborted = false;
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group has already exited.
        }
      };
      const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (truncated) return;
        const room = limit - bytes;
        if (chunk.length > room) {
          chunks[stream].push(chunk.subarray(0, room));
          bytes = limit;
          truncated = true;
          killGroup();
          return;
        }
        chunks[stream].push(chunk);
        bytes += chunk.length;
      };
      child.stdout.on('data', collect('stdout'));
      child.stderr.on('data', collect('stderr'));
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, this.config.AGENTS_COMMAND_TIMEOUT_MS);
      const onAbort = () => {
        aborted = true;
        killGroup();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      child.on('error', (error) => {
        finish();
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(new ToolInputError('not_found', `program ${JSON.stringify(file)} is not installed`));
        else reject(error);
      });
      // 'close', not 'exit': the pipes are drained (or the group killed by the timer) by then.
      child.on('close', (exitCode, exitSignal) => {
        finish();
        resolve({
          exitCode,
          signal: exitSignal,
          stdout: decode(chunks.stdout),
          stderr: decode(chunks.stderr),
          truncated,
          timedOut,
          aborted,
          isolation,
          durationMs: Date.now() - started,
        });
      });
    });
  }

  private async findWrapper(): Promise<readonly string[] | undefined> {
    for (const wrapper of this.wrappers) {
      const [file, ...args] = wrapper;
      try {
        await promisify(execFile)(file, [...args, 'true'], { timeout: PROBE_TIMEOUT_MS, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
        return wrapper;
      } catch {
        // Not allowed here; try the next.
      }
    }
    return undefined;
  }
}

/** UTF-8 text of the chunks; a character cut by truncation is dropped rather than shown as garbage. */
function decode(chunks: Buffer[]): string {
  return new TextDecoder().decode(Buffer.concat(chunks), { stream: true });
}
