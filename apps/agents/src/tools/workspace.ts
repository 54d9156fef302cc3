import { mkdir, lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { APP_CONFIG } from '@multipult/config';
import type { AgentsConfig } from '../config';
import { ToolInputError } from './agent-tool';

/**
 * One user's directory the file tools are confined to. Paths are checked against the real path of
 * the root after following symlinks, so a link inside pointing elsewhere (another user's workspace,
 * /etc) is refused. Checks and the later open are not atomic: the file tools also open with
 * O_NOFOLLOW, and commands are confined by their network namespace and cwd, not by these checks.
 */
export class Workspace {
  /** `root` must already be a real path (WorkspaceFactory makes it one). */
  constructor(readonly root: string) {}

  /** The absolute real path `relativePath` names inside the workspace, existing or not; throws ToolInputError('path_escape'). */
  async resolve(relativePath: string): Promise<string> {
    if (relativePath.includes('\0')) throw escape(relativePath, 'contains a NUL byte');
    if (path.isAbsolute(relativePath)) throw escape(relativePath, 'is absolute; give a path relative to the workspace');
    const lexical = path.resolve(this.root, relativePath);
    if (!this.contains(lexical)) throw escape(relativePath, 'leaves the workspace');
    const real = await this.realPathOf(lexical);
    if (!this.contains(real)) throw escape(relativePath, 'leads outside the workspace through a symbolic link');
    return real;
  }

  /** The path relative to the root, as tools show it to the model. */
  relative(absolutePath: string): string {
    return path.relative(this.root, absolutePath) || '.';
  }

  contains(absolutePath: string): boolean {
    const relative = path.relative(this.root, absolutePath);
    return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
  }

  /** realpath of the nearest existing ancestor plus the missing rest; a dangling symlink on the way is refused, as writing through it would create its target. */
  private async realPathOf(lexical: string): Promise<string> {
    const missing: string[] = [];
    let current = lexical;
    for (;;) {
      try {
        return path.join(await realpath(current), ...missing);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
      if (await isSymlink(current)) throw escape(this.relative(lexical), 'goes through a symbolic link whose target does not exist');
      missing.unshift(path.basename(current));
      current = path.dirname(current);
    }
  }
}

/** Creates and opens `<AGENTS_WORKSPACE_DIR>/<tenantId>/<userId>`, readable only by this service's user. */
@Injectable()
export class WorkspaceFactory {
  constructor(@Inject(APP_CONFIG) private readonly config: Pick<AgentsConfig, 'AGENTS_WORKSPACE_DIR'>) {}

  async forUser(tenantId: string, userId: string): Promise<Workspace> {
    if (!z.uuid().safeParse(tenantId).success || !z.uuid().safeParse(userId).success) {
      throw new ToolInputError('invalid_arguments', 'tenant and user ids must be uuids');
    }
    const directory = path.resolve(this.config.AGENTS_WORKSPACE_DIR, tenantId.toLowerCase(), userId.toLowerCase());
    await mkdir(directory, { recursive: true, mode: 0o700 });
    return new Workspace(await realpath(directory));
  }
}

function escape(relativePath: string, why: string): ToolInputError {
  return new ToolInputError('path_escape', `path ${JSON.stringify(relativePath.replaceAll('\0', '\\0'))} ${why}`);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function isSymlink(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isSymbolicLink();
  } catch {
    return false;
  }
}
