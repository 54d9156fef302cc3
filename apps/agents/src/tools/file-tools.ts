import { constants } from 'node:fs';
import { mkdir, open, opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { APP_CONFIG } from '@multipult/config';
import type { AgentsConfig } from '../config';
import { AgentTool, RiskLevel, ToolContext, ToolInputError, ToolResult, parseToolArguments, toolParameters } from './agent-tool';
import type { Workspace } from './workspace';

export type FileToolsConfig = Pick<AgentsConfig, 'AGENTS_FILE_MAX_BYTES'>;

/** Entries list_directory shows at most. */
export const MAX_LIST_ENTRIES = 1000;
/** Matching lines search_files returns at most, and files it reads at most. */
export const MAX_SEARCH_MATCHES = 200;
export const MAX_SEARCH_FILES = 5000;
/** Directory entries search_files walks past at most (a glob may skip most of them). */
export const MAX_SEARCH_ENTRIES = 50_000;
/** Characters of a line a pattern is matched against and shown: bounds the work of a backtracking regex per line. */
export const MAX_SEARCH_LINE_LENGTH = 500;
const MAX_PATTERN_LENGTH = 500;
/** Bytes looked at to tell a binary file (one with a NUL byte) from text. */
const BINARY_SNIFF_BYTES = 8192;

const relativePath = (what: string) => z.string().min(1).max(4096).describe(`${what}, relative to the workspace root`);

const readFileSchema = z.strictObject({
  path: relativePath('The file to read'),
  maxBytes: z.number().int().positive().optional().describe('Read at most this many bytes (default and ceiling: the service limit)'),
});
export type ReadFileArgs = z.output<typeof readFileSchema>;

@Injectable()
export class ReadFileTool implements AgentTool<ReadFileArgs> {
  readonly name = 'read_file';
  readonly description = 'Reads a UTF-8 text file from the workspace.';
  readonly parameters = toolParameters(readFileSchema);

  constructor(@Inject(APP_CONFIG) private readonly config: FileToolsConfig) {}

  parse(args: unknown): ReadFileArgs {
    return parseToolArguments(readFileSchema, args);
  }

  risk(): RiskLevel {
    return 'low';
  }

  approvalClass(): string {
    return this.name;
  }

  async execute(args: ReadFileArgs, { workspace }: ToolContext): Promise<ToolResult> {
    const file = await workspace.resolve(args.path);
    const limit = Math.min(args.maxBytes ?? this.config.AGENTS_FILE_MAX_BYTES, this.config.AGENTS_FILE_MAX_BYTES);
    const handle = await openExisting(file, constants.O_RDONLY | constants.O_NONBLOCK, args.path);
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw new ToolInputError('invalid_arguments', `${args.path} is a directory; use list_directory`);
      if (!info.isFile()) throw new ToolInputError('invalid_arguments', `${args.path} is not a regular file`);
      const buffer = Buffer.alloc(Math.min(limit, info.size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const content = buffer.subarray(0, bytesRead);
      if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
        return { output: `${args.path} is a binary file (${info.size} bytes); not shown`, data: { path: args.path, size: info.size, binary: true } };
      }
      const truncated = info.size > bytesRead;
      const text = new TextDecoder().decode(content, { stream: true });
      return {
        output: truncated ? `${text}\n[truncated: showed ${bytesRead} of ${info.size} bytes]` : text,
        truncated,
        data: { path: args.path, size: info.size, bytesRead },
      };
    } finally {
      await handle.close();
    }
  }
}

const writeFileSchema = z.strictObject({
  path: relativePath('The file to write; missing parent directories are created'),
  content: z.string().describe('UTF-8 text to write'),
  append: z.boolean().default(false).describe('Append to the file instead of replacing it'),
});
export type WriteFileArgs = z.output<typeof writeFileSchema>;

@Injectable()
export class WriteFileTool implements AgentTool<WriteFileArgs> {
  readonly name = 'write_file';
  readonly description = 'Writes (or appends) UTF-8 text to a file in the workspace, creating it and its parent directories.';
  readonly parameters = toolParameters(writeFileSchema);

  constructor(@Inject(APP_CONFIG) private readonly config: FileToolsConfig) {}

  parse(args: unknown): WriteFileArgs {
    const parsed = parseToolArguments(writeFileSchema, args);
    this.checkSize(Buffer.byteLength(parsed.content));
    return parsed;
  }

  risk(): RiskLevel {
    return 'medium';
  }

  approvalClass(): string {
    return this.name;
  }

  async execute(args: WriteFileArgs, { workspace }: ToolContext): Promise<ToolResult> {
    const file = await workspace.resolve(args.path);
    if (file === workspace.root) throw new ToolInputError('invalid_arguments', 'name a file, not the workspace itself');
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const bytes = Buffer.byteLength(args.content);
    const mode = args.append ? constants.O_APPEND : constants.O_TRUNC;
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | mode, 0o600).catch((error: unknown) => {
      throw fileError(error, args.path);
    });
    try {
      const info = await handle.stat();
      if (args.append) this.checkSize(info.size + bytes);
      await handle.writeFile(args.content, 'utf8');
      const size = args.append ? info.size + bytes : bytes;
      return { output: `${args.append ? 'appended' : 'wrote'} ${bytes} bytes to ${workspace.relative(file)}`, data: { path: workspace.relative(file), bytes, size } };
    } finally {
      await handle.close();
    }
  }

  private checkSize(bytes: number): void {
    if (bytes > this.config.AGENTS_FILE_MAX_BYTES) {
      throw new ToolInputError('file_too_large', `files may have at most ${this.config.AGENTS_FILE_MAX_BYTES} bytes`);
    }
  }
}

const listDirectorySchema = z.strictObject({
  path: relativePath('The directory to list').default('.'),
  recursive: z.boolean().default(false).describe('Also list subdirectories (symbolic links are not followed)'),
});
export type ListDirectoryArgs = z.output<typeof listDirectorySchema>;

@Injectable()
export class ListDirectoryTool implements AgentTool<ListDirectoryArgs> {
  readonly name = 'list_directory';
  readonly description = `Lists a workspace directory: directories end in "/", symbolic links in "@". At most ${MAX_LIST_ENTRIES} entries.`;
  readonly parameters = toolParameters(listDirectorySchema);

  parse(args: unknown): ListDirectoryArgs {
    return parseToolArguments(listDirectorySchema, args ?? {});
  }

  risk(): RiskLevel {
    return 'low';
  }

  approvalClass(): string {
    return this.name;
  }

  async execute(args: ListDirectoryArgs, { workspace, signal }: ToolContext): Promise<ToolResult> {
    const directory = await resolveDirectory(workspace, args.path);
    const entries: string[] = [];
    let truncated = false;
    for await (const entry of walk(directory, args.recursive, signal)) {
      if (entries.length === MAX_LIST_ENTRIES) {
        truncated = true;
        break;
      }
      const name = path.relative(directory, entry.path);
      entries.push(entry.kind === 'directory' ? `${name}/` : entry.kind === 'symlink' ? `${name}@` : name);
    }
    const listing = entries.length === 0 ? '(empty)' : entries.join('\n');
    return {
      output: truncated ? `${listing}\n[truncated at ${MAX_LIST_ENTRIES} entries]` : listing,
      truncated,
      data: { path: workspace.relative(directory), entries: entries.length },
    };
  }
}

const searchFilesSchema = z.strictObject({
  pattern: z.string().min(1).max(MAX_PATTERN_LENGTH).describe('Text to find in lines (or a JavaScript regular expression when regex is true)'),
  regex: z.boolean().default(false).describe('Treat pattern as a regular expression'),
  caseSensitive: z.boolean().default(true),
  path: relativePath('The directory (or file) to search').default('.'),
  glob: z.string().min(1).max(256).optional().describe('Only files whose path (relative to `path`) or name matches this glob, e.g. "**/*.ts" or "*.md"'),
});
export type SearchFilesArgs = z.output<typeof searchFilesSchema>;

@Injectable()
export class SearchFilesTool implements AgentTool<SearchFilesArgs> {
  readonly name = 'search_files';
  readonly description = `Finds lines containing a text or matching a regular expression in workspace files (binary and oversized files skipped); returns "path:line: text", at most ${MAX_SEARCH_MATCHES} lines.`;
  readonly parameters = toolParameters(searchFilesSchema);

  constructor(@Inject(APP_CONFIG) private readonly config: FileToolsConfig) {}

  parse(args: unknown): SearchFilesArgs {
    const parsed = parseToolArguments(searchFilesSchema, args);
    matcherOf(parsed);
    return parsed;
  }

  risk(): RiskLevel {
    return 'low';
  }

  approvalClass(): string {
    return this.name;
  }

  async execute(args: SearchFilesArgs, { workspace, signal }: ToolContext): Promise<ToolResult> {
    const matcher = matcherOf(args);
    const start = await workspace.resolve(args.path);
    const info = await stat(start).catch((error: unknown) => {
      throw fileError(error, args.path);
    });
    const files = info.isDirectory() ? walk(start, true, signal) : single(start);
    const matches: string[] = [];
    let filesRead = 0;
    let entriesSeen = 0;
    let truncated = false;
    search: for await (const entry of files) {
      entriesSeen += 1;
      if (entriesSeen > MAX_SEARCH_ENTRIES) {
        truncated = true;
        break;
      }
      if (entry.kind !== 'file') continue;
      const relativeToStart = path.relative(start, entry.path) || path.basename(entry.path);
      if (args.glob !== undefined && !path.matchesGlob(relativeToStart, args.glob) && !path.matchesGlob(path.basename(entry.path), args.glob)) continue;
      if (filesRead === MAX_SEARCH_FILES) {
        truncated = true;
        break;
      }
      filesRead += 1;
      const text = await readText(entry.path, this.config.AGENTS_FILE_MAX_BYTES);
      if (text === undefined) continue;
      const lines = text.split('\n');
      for (const [index, line] of lines.entries()) {
        const bounded = line.slice(0, MAX_SEARCH_LINE_LENGTH);
        if (!matcher.test(bounded)) continue;
        if (matches.length === MAX_SEARCH_MATCHES) {
          truncated = true;
          break search;
        }
        matches.push(`${workspace.relative(entry.path)}:${index + 1}: ${bounded}`);
      }
    }
    const found = matches.length === 0 ? 'no matches' : matches.join('\n');
    return {
      output: truncated ? `${found}\n[truncated: stopped at ${matches.length} matches in ${filesRead} files]` : found,
      truncated,
      data: { matches: matches.length, filesRead },
    };
  }
}

/** Args stay plain data (they are stored for approval), so the expression is compiled where it is used. */
function matcherOf(args: SearchFilesArgs): RegExp {
  const source = args.regex ? args.pattern : args.pattern.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  try {
    return new RegExp(source, args.caseSensitive ? 'u' : 'iu');
  } catch (error) {
    throw new ToolInputError('invalid_arguments', `pattern is not a valid regular expression: ${(error as Error).message}`);
  }
}

interface WalkEntry {
  path: string;
  kind: 'file' | 'directory' | 'symlink' | 'other';
}

/** Entries under `directory`, breadth first, never following symbolic links (so never leaving the workspace). */
async function* walk(directory: string, recursive: boolean, signal: AbortSignal): AsyncGenerator<WalkEntry> {
  const pending = [directory];
  for (let current = pending.shift(); current !== undefined; current = pending.shift()) {
    signal.throwIfAborted();
    const entries = [];
    for await (const entry of await opendir(current)) entries.push(entry);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const entryPath = path.join(current, entry.name);
      const kind = entry.isSymbolicLink() ? 'symlink' : entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'other';
      yield { path: entryPath, kind };
      if (recursive && kind === 'directory') pending.push(entryPath);
    }
  }
}

async function* single(file: string): AsyncGenerator<WalkEntry> {
  yield { path: file, kind: 'file' };
}

async function resolveDirectory(workspace: Workspace, relative: string): Promise<string> {
  const directory = await workspace.resolve(relative);
  const info = await stat(directory).catch((error: unknown) => {
    throw fileError(error, relative);
  });
  if (!info.isDirectory()) throw new ToolInputError('invalid_arguments', `${relative} is not a directory`);
  return directory;
}

/** The file's text, or undefined for a binary (NUL byte) or larger-than-allowed file, or one that went away. */
async function readText(file: string, maxBytes: number): Promise<string | undefined> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > maxBytes) return undefined;
    const content = await handle.readFile();
    if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return undefined;
    return content.toString('utf8');
  } finally {
    await handle.close();
  }
}

async function openExisting(file: string, flags: number, shown: string) {
  return open(file, flags | constants.O_NOFOLLOW).catch((error: unknown) => {
    throw fileError(error, shown);
  });
}

function fileError(error: unknown, shown: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ToolInputError('not_found', `${shown} does not exist`);
  if (code === 'ELOOP') return new ToolInputError('path_escape', `${shown} is a symbolic link`);
  if (code === 'EISDIR') return new ToolInputError('invalid_arguments', `${shown} is a directory`);
  return error;
}
