import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

// The sequencer is jest configuration (plain CommonJS next to jest.config.js), loaded the way jest loads it.
const PlatformSequencer = require('../jest/platform-sequencer.cjs');

describe('platform sequencer', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'platform-sequencer-'));
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('puts files that leave default for another configuration on different shards, so no shard boots default twice', async () => {
    const ask = (name: string) => `platform = await usePlatform('${name}');`;
    const files: Record<string, string> = {
      'leaves-for-a.spec.ts': `${ask('default')}\n${ask('conf-a')}`,
      'leaves-for-b.spec.ts': `${ask('default')}\n${ask('conf-b')}`,
      'b.spec.ts': ask('conf-b'),
      // Weighs as much as a platform of its own: it takes the first shard, and both units would otherwise fit the second.
      'standalone.spec.ts': 'no platform at all',
      ...Object.fromEntries(Array.from({ length: 6 }, (_, index) => [`default-${index}.spec.ts`, ask('default')])),
    };
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const context = { config: { cache: false }, hasteFS: { getSize: () => 0 } };
    const tests = Object.keys(files).map((name) => ({ path: path.join(dir, name), context }));
    const sequencer = new PlatformSequencer({ contexts: [] });
    const shards: string[][] = [1, 2].map((shardIndex) =>
      sequencer.shard(tests, { shardIndex, shardCount: 2 }).map((test: { path: string }) => path.basename(test.path)),
    );
    const shardOf = (name: string) => shards.findIndex((shard) => shard.includes(name));
    expect(shardOf('leaves-for-a.spec.ts')).not.toBe(shardOf('leaves-for-b.spec.ts'));
    expect(shardOf('b.spec.ts')).toBe(shardOf('leaves-for-b.spec.ts'));
    expect(shards.flat().sort()).toEqual(Object.keys(files).sort());
  });

  it("runs each configuration's files together: standalone files first, default next, a file of two configurations between them", async () => {
    // Built from parts, so that this file's own source asks for no platform.
    const ask = (name: string, quote = "'") => `platform = await usePlatform(${quote}${name}${quote});`;
    const files: Record<string, string> = {
      'limits.spec.ts': ask('gateway-limits'),
      'plain.spec.ts': 'no platform at all',
      'one.spec.ts': ask('default'),
      'two.spec.ts': `${ask('default')}\nsecond = await usePlatform(\n  '${'silent'}',\n);`,
      'silent.spec.ts': ask('silent'),
      'three.spec.ts': ask('default', '"'),
      'apart.spec.ts': ask('aardvark'),
    };
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    // One project without a timing cache: within a group, jest's own order (here by file size) stays.
    const context = { config: { cache: false }, hasteFS: { getSize: () => 0 } };
    const tests = Object.keys(files).map((name) => ({ path: path.join(dir, name), context }));

    const order: string[] = new PlatformSequencer({ contexts: [] }).sort(tests).map((test: { path: string }) => path.basename(test.path));

    expect(order[0]).toBe('plain.spec.ts');
    const defaults = order.slice(1, 4);
    expect([...defaults].sort()).toEqual(['one.spec.ts', 'three.spec.ts', 'two.spec.ts']);
    expect(defaults[2]).toBe('two.spec.ts');
    // The second configuration of two.spec.ts follows at once; then the others by name.
    expect(order.slice(4)).toEqual(['silent.spec.ts', 'apart.spec.ts', 'limits.spec.ts']);

    const sequencer = new PlatformSequencer({ contexts: [] });
    const shards: string[][] = [1, 2].map((shardIndex) =>
      sequencer.shard(tests, { shardIndex, shardCount: 2 }).map((test: { path: string }) => path.basename(test.path)),
    );
    // Every file in exactly one shard, the shards near even, and a configuration's files (two.spec.ts
    // uses silent too) in one shard so it boots once.
    expect(shards.flat().sort()).toEqual(Object.keys(files).sort());
    expect(Math.abs(shards[0].length - shards[1].length)).toBeLessThanOrEqual(2);
    const shardOf = (name: string) => shards.findIndex((shard) => shard.includes(name));
    expect(shardOf('two.spec.ts')).toBe(shardOf('silent.spec.ts'));
  });
});
