import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Platform, workspaceRoot } from '@multipult/testing';
import { usePlatform } from './support/platforms';

const run = promisify(execFile);

describe('supergraph composition', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await usePlatform('default');
  });

  it('the committed deploy/supergraph.graphql is what the subgraphs compose to', async () => {
    const compose = path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs');
    const committed = path.join(workspaceRoot(), 'deploy/supergraph.graphql');
    await expect(
      run(process.execPath, [
        compose,
        ...Object.entries(platform.urls).flatMap(([name, url]) => ['--subgraph', `${name}=${url}`]),
        '--check',
        committed,
      ]),
    ).resolves.toMatchObject({ stdout: expect.stringContaining('matches the composed supergraph') });
  });

  it('fails with every composition error listed when subgraphs do not compose', async () => {
    const compose = path.join(workspaceRoot(), 'tools/compose-supergraph/compose.mjs');
    // The same subgraph under two names defines every root field twice: a real composition error.
    const failure = await run(process.execPath, [
      compose,
      '--subgraph',
      `auth=${platform.authUrl}`,
      '--subgraph',
      `auth_copy=${platform.authUrl}`,
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('supergraph composition failed') });
  });
});
