import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ToolContext } from './agent-tool';
import { FileToolsConfig, ListDirectoryTool, MAX_LIST_ENTRIES, MAX_SEARCH_LINE_LENGTH, ReadFileTool, SearchFilesTool, WriteFileTool } from './file-tools';
import { WorkspaceFactory } from './workspace';

const config: FileToolsConfig = { AGENTS_FILE_MAX_BYTES: 4096 };

describe('file tools', () => {
  const readTool = new ReadFileTool(config);
  const writeTool = new WriteFileTool(config);
  const listTool = new ListDirectoryTool();
  const searchTool = new SearchFilesTool(config);
  let base: string;
  let context: ToolContext;
  let siblingRoot: string;

  const read = (args: unknown) => readTool.execute(readTool.parse(args), context);
  const write = (args: unknown) => writeTool.execute(writeTool.parse(args), context);
  const list = (args: unknown) => listTool.execute(listTool.parse(args), context);
  const search = (args: unknown) => searchTool.execute(searchTool.parse(args), context);
  const root = () => context.workspace.root;

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'agent-files-')));
    const factory = new WorkspaceFactory({ AGENTS_WORKSPACE_DIR: base });
    const tenantId = randomUUID();
    const userId = randomUUID();
    context = { workspace: await factory.forUser(tenantId, userId), signal: new AbortController().signal, tenantId, userId };
    siblingRoot = (await factory.forUser(tenantId, randomUUID())).root;
    await writeFile(path.join(siblingRoot, 'secret.txt'), 'sibling secret');
  });

  afterEach(() => rm(base, { recursive: true, force: true }));

  it('writes a file with its parent directories, then reads it back; appends', async () => {
    const written = await write({ path: 'notes/today/plan.md', content: 'first line\n' });
    expect(written.output).toBe('wrote 11 bytes to notes/today/plan.md');
    await write({ path: 'notes/today/plan.md', content: 'second line\n', append: true });
    expect((await read({ path: 'notes/today/plan.md' })).output).toBe('first line\nsecond line\n');
    await write({ path: 'notes/today/plan.md', content: 'replaced' });
    expect(await readFile(path.join(root(), 'notes/today/plan.md'), 'utf8')).toBe('replaced');
  });

  it('reads at most maxBytes and says it truncated', async () => {
    await writeFile(path.join(root(), 'long.txt'), 'abcdefghij');
    const result = await read({ path: 'long.txt', maxBytes: 4 });
    expect(result.truncated).toBe(true);
    expect(result.output).toBe('abcd\n[truncated: showed 4 of 10 bytes]');
  });

  it('refuses writes beyond AGENTS_FILE_MAX_BYTES, also by appending', async () => {
    expect(() => writeTool.parse({ path: 'big.txt', content: 'x'.repeat(4097) })).toThrow(expect.objectContaining({ reason: 'file_too_large' }));
    await write({ path: 'grow.txt', content: 'x'.repeat(4000) });
    await expect(write({ path: 'grow.txt', content: 'x'.repeat(100), append: true })).rejects.toMatchObject({ reason: 'file_too_large' });
  });

  it('says a missing file is not found, and refuses malformed arguments', async () => {
    await expect(read({ path: 'missing.txt' })).rejects.toMatchObject({ reason: 'not_found' });
    expect(() => readTool.parse({ path: 42 })).toThrow(expect.objectContaining({ reason: 'invalid_arguments' }));
    expect(() => writeTool.parse({ path: 'a.txt', content: 'x', mode: 'overwrite' })).toThrow(expect.objectContaining({ reason: 'invalid_arguments' }));
  });

  it.each(['../x', 'a/../../x', '/etc/passwd', 'a\0b'])('refuses the path %j for read, write and list', async (escaping) => {
    await expect(read({ path: escaping })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(write({ path: escaping, content: 'planted' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(list({ path: escaping })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(search({ pattern: 'x', path: escaping })).rejects.toMatchObject({ reason: 'path_escape' });
  });

  it("refuses symbolic links to /etc and to a sibling user's workspace for read, write and list", async () => {
    await symlink('/etc', path.join(root(), 'etc'));
    await symlink(siblingRoot, path.join(root(), 'neighbour'));
    await symlink(path.join(siblingRoot, 'secret.txt'), path.join(root(), 'secret-link.txt'));
    await expect(read({ path: 'etc/passwd' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(read({ path: 'neighbour/secret.txt' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(read({ path: 'secret-link.txt' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(write({ path: 'neighbour/planted.txt', content: 'x' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(write({ path: 'secret-link.txt', content: 'overwritten' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(write({ path: 'etc/new-dir/file', content: 'x' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(list({ path: 'etc' })).rejects.toMatchObject({ reason: 'path_escape' });
    await expect(list({ path: 'neighbour' })).rejects.toMatchObject({ reason: 'path_escape' });
    expect(await readFile(path.join(siblingRoot, 'secret.txt'), 'utf8')).toBe('sibling secret');
    // A recursive listing shows the links but does not descend through them.
    const listing = await list({ recursive: true });
    expect(listing.output.split('\n')).toEqual(['etc@', 'neighbour@', 'secret-link.txt@']);
  });

  it('lists a directory, flat or recursively', async () => {
    await write({ path: 'src/main.ts', content: 'main' });
    await write({ path: 'src/lib/util.ts', content: 'util' });
    await write({ path: 'README.md', content: 'readme' });
    expect((await list({})).output.split('\n')).toEqual(['README.md', 'src/']);
    expect((await list({ path: 'src', recursive: true })).output.split('\n')).toEqual(['lib/', 'main.ts', 'lib/util.ts']);
    await mkdir(path.join(root(), 'empty'));
    expect((await list({ path: 'empty' })).output).toBe('(empty)');
  });

  it(`lists at most ${MAX_LIST_ENTRIES} entries`, async () => {
    await mkdir(path.join(root(), 'many'));
    await Promise.all(Array.from({ length: MAX_LIST_ENTRIES + 5 }, (_, index) => writeFile(path.join(root(), 'many', `f${index}`), '')));
    const result = await list({ path: 'many' });
    expect(result.truncated).toBe(true);
    expect(result.output.split('\n')).toHaveLength(MAX_LIST_ENTRIES + 1);
  });

  it('finds plain text (regex characters literal) and regular expressions, by glob, skipping binary and oversized files', async () => {
    await write({ path: 'src/a.ts', content: 'const price = 1.5;\nconst cost = 105;\n' });
    await write({ path: 'src/b.md', content: 'price 1.5 in docs\n' });
    await writeFile(path.join(root(), 'src/binary.ts'), Buffer.from([0x70, 0x72, 0x69, 0x63, 0x65, 0x00, 0x31]));
    await writeFile(path.join(root(), 'src/huge.ts'), `price 1.5\n${'x'.repeat(5000)}`);
    expect((await search({ pattern: '1.5' })).output.split('\n')).toEqual(['src/a.ts:1: const price = 1.5;', 'src/b.md:1: price 1.5 in docs']);
    expect((await search({ pattern: '1.5', regex: true, glob: '*.ts' })).output.split('\n')).toEqual(['src/a.ts:1: const price = 1.5;', 'src/a.ts:2: const cost = 105;']);
    expect((await search({ pattern: 'PRICE', caseSensitive: false, path: 'src', glob: '**/*.md' })).output).toBe('src/b.md:1: price 1.5 in docs');
    expect((await search({ pattern: 'nowhere' })).output).toBe('no matches');
    expect(() => searchTool.parse({ pattern: '(unclosed', regex: true })).toThrow(expect.objectContaining({ reason: 'invalid_arguments' }));
  });

  it(`matches and shows only the first ${MAX_SEARCH_LINE_LENGTH} characters of a line`, async () => {
    await write({ path: 'wide.txt', content: `${'a'.repeat(MAX_SEARCH_LINE_LENGTH)}needle\n` });
    expect((await search({ pattern: 'needle' })).output).toBe('no matches');
    const shown = (await search({ pattern: 'a+', regex: true })).output;
    expect(shown).toBe(`wide.txt:1: ${'a'.repeat(MAX_SEARCH_LINE_LENGTH)}`);
  });

  it('gives JSON Schema parameters for function calling', () => {
    expect(writeTool.parameters).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' }, append: { type: 'boolean' } },
      required: ['path', 'content'],
      additionalProperties: false,
    });
    expect(listTool.parameters).not.toHaveProperty('$schema');
    expect(listTool.parameters).not.toHaveProperty('required');
  });

  it('rates reads low and writes medium, each its own approval class', () => {
    expect(readTool.risk()).toBe('low');
    expect(listTool.risk()).toBe('low');
    expect(searchTool.risk()).toBe('low');
    expect(writeTool.risk()).toBe('medium');
    expect([readTool, writeTool, listTool, searchTool].map((tool) => tool.approvalClass())).toEqual(['read_file', 'write_file', 'list_directory', 'search_files']);
  });
});
