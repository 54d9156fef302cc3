import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ToolInputError } from './agent-tool';
import { Workspace, WorkspaceFactory } from './workspace';

describe('Workspace', () => {
  let base: string;
  let workspace: Workspace;
  let sibling: Workspace;
  const tenantId = randomUUID();

  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(tmpdir(), 'agent-workspaces-')));
    const factory = new WorkspaceFactory({ AGENTS_WORKSPACE_DIR: base });
    workspace = await factory.forUser(tenantId, randomUUID());
    sibling = await factory.forUser(tenantId, randomUUID());
  });

  afterEach(() => rm(base, { recursive: true, force: true }));

  it('is <dir>/<tenant>/<user>, created readable by the owner only', async () => {
    expect(path.dirname(path.dirname(workspace.root))).toBe(base);
    expect(path.basename(path.dirname(workspace.root))).toBe(tenantId);
    expect((await stat(workspace.root)).mode & 0o777).toBe(0o700);
  });

  it('refuses ids that are not uuids (they name directories)', async () => {
    const factory = new WorkspaceFactory({ AGENTS_WORKSPACE_DIR: base });
    await expect(factory.forUser('..', randomUUID())).rejects.toMatchObject({ reason: 'invalid_arguments' });
    await expect(factory.forUser(tenantId, '../other')).rejects.toMatchObject({ reason: 'invalid_arguments' });
  });

  it('resolves paths inside, existing or not', async () => {
    await mkdir(path.join(workspace.root, 'src'));
    expect(await workspace.resolve('src')).toBe(path.join(workspace.root, 'src'));
    expect(await workspace.resolve('./src/../src/new/deeper.txt')).toBe(path.join(workspace.root, 'src/new/deeper.txt'));
    expect(await workspace.resolve('.')).toBe(workspace.root);
  });

  it.each(['../x', 'a/../../x', '..', '/etc/passwd', 'a\0b'])('refuses %j as a path escape', async (escaping) => {
    await expect(workspace.resolve(escaping)).rejects.toThrow(ToolInputError);
    await expect(workspace.resolve(escaping)).rejects.toMatchObject({ reason: 'path_escape' });
  });

  it("refuses a relative path into a sibling user's workspace", async () => {
    await expect(workspace.resolve(`../${path.basename(sibling.root)}/secret.txt`)).rejects.toMatchObject({ reason: 'path_escape' });
  });

  it('refuses symbolic links leading out, to /etc or to a sibling user, also for files not yet created below them', async () => {
    await symlink('/etc', path.join(workspace.root, 'etc'));
    await symlink(sibling.root, path.join(workspace.root, 'neighbour'));
    await writeFile(path.join(sibling.root, 'secret.txt'), 'theirs');
    for (const escaping of ['etc', 'etc/passwd', 'etc/not-yet/created.txt', 'neighbour/secret.txt', 'neighbour/new.txt']) {
      await expect(workspace.resolve(escaping)).rejects.toMatchObject({ reason: 'path_escape' });
    }
  });

  it('refuses a dangling symbolic link, through which a write would create its target outside', async () => {
    await symlink(path.join(sibling.root, 'planted.txt'), path.join(workspace.root, 'dangling'));
    await expect(workspace.resolve('dangling')).rejects.toMatchObject({ reason: 'path_escape' });
  });

  it('follows symbolic links that stay inside', async () => {
    await mkdir(path.join(workspace.root, 'real'));
    await symlink('real', path.join(workspace.root, 'alias'));
    expect(await workspace.resolve('alias/file.txt')).toBe(path.join(workspace.root, 'real/file.txt'));
  });
});
