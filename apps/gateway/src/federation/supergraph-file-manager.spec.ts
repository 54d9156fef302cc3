import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GraphQLSchema, parse } from 'graphql';
import { metricsRegistry } from '@multipult/observability';
import { eventually } from '@multipult/testing';
import { SupergraphFileManager, validateSupergraph } from './supergraph-file-manager';

const FEDERATION = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

function supergraphOf(subgraphs: Record<string, string>): string {
  const result = composeServices(
    Object.entries(subgraphs).map(([name, typeDefs]) => ({ name, url: `http://${name}.test/graphql`, typeDefs: parse(`${FEDERATION}\n${typeDefs}`) })),
  );
  if (!result.supergraphSdl) throw new Error(result.errors?.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

const BOTH = supergraphOf({ books: 'type Query { books: [String!]! }', films: 'type Query { films: [String!]! }' });
const BOOKS_ONLY = supergraphOf({ books: 'type Query { books: [String!]! }' });

async function metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const values = (await metricsRegistry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value;
}

const hooks = (update: (sdl: string) => void = () => undefined) => ({
  update,
  healthCheck: async () => undefined,
  getDataSource: () => {
    throw new Error('not used');
  },
});

describe('SupergraphFileManager', () => {
  let dir: string;
  let file: string;
  let manager: SupergraphFileManager | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'supergraph-manager-'));
    file = path.join(dir, 'supergraph.graphql');
    await writeFile(file, BOTH);
  });

  afterEach(async () => {
    manager?.stop();
    manager = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('validates supergraphs: a composed one passes, garbage and a plain schema do not', () => {
    expect(() => validateSupergraph(BOTH)).not.toThrow();
    expect(() => validateSupergraph('this is { not graphql')).toThrow();
    expect(() => validateSupergraph('type Query { books: [String!]! }')).toThrow();
  });

  it('loads the file at start-up and hands it to the routing table', async () => {
    const loaded: string[] = [];
    manager = new SupergraphFileManager({ path: file, watchIntervalMs: 0, onLoaded: (sdl) => loaded.push(sdl) });
    const { supergraphSdl } = await manager.initialize(hooks());
    expect(supergraphSdl).toBe(BOTH);
    expect(loaded).toEqual([BOTH]);
    expect(await metric('gateway_supergraph_reload_failing')).toBe(0);
    expect(await metric('gateway_supergraph_loaded_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it('fails the start on a file that is not a supergraph, naming the file', async () => {
    await writeFile(file, 'type Query { books: [String!]! }');
    manager = new SupergraphFileManager({ path: file, watchIntervalMs: 0 });
    await expect(manager.initialize(hooks())).rejects.toThrow(`${file} is not a usable supergraph`);
  });

  it('takes a changed file, refuses garbage once while serving the last good one, and clears the failure on a good file', async () => {
    const updates: string[] = [];
    const loaded: string[] = [];
    manager = new SupergraphFileManager({ path: file, watchIntervalMs: 0, onLoaded: (sdl) => loaded.push(sdl) });
    await manager.initialize(hooks((sdl) => updates.push(sdl)));
    const successes = (await metric('gateway_supergraph_reloads_total', { outcome: 'success' })) ?? 0;
    const failures = (await metric('gateway_supergraph_reloads_total', { outcome: 'failure' })) ?? 0;

    expect(await manager.check()).toBe('unchanged');
    await writeFile(file, BOOKS_ONLY);
    expect(await manager.check()).toBe('loaded');
    expect(updates).toEqual([BOOKS_ONLY]);
    expect(await metric('gateway_supergraph_reloads_total', { outcome: 'success' })).toBe(successes + 1);

    await writeFile(file, 'schema { query: Query } garbage');
    expect(await manager.check()).toBe('refused');
    // The same refused file is reported once, not at every look.
    expect(await manager.check()).toBe('unchanged');
    expect(updates).toEqual([BOOKS_ONLY]);
    expect(await metric('gateway_supergraph_reloads_total', { outcome: 'failure' })).toBe(failures + 1);
    expect(await metric('gateway_supergraph_reload_failing')).toBe(1);

    await writeFile(file, BOTH);
    expect(await manager.check()).toBe('loaded');
    expect(updates).toEqual([BOOKS_ONLY, BOTH]);
    expect(loaded).toEqual([BOTH, BOOKS_ONLY, BOTH]);
    expect(await metric('gateway_supergraph_reload_failing')).toBe(0);
  });

  it('keeps serving, and routing, the old supergraph when the gateway refuses the new one', async () => {
    const loaded: string[] = [];
    manager = new SupergraphFileManager({ path: file, watchIntervalMs: 0, onLoaded: (sdl) => loaded.push(sdl) });
    await manager.initialize(
      hooks(() => {
        throw new Error('cannot plan on this supergraph');
      }),
    );
    await writeFile(file, BOOKS_ONLY);
    expect(await manager.check()).toBe('refused');
    expect(loaded).toEqual([BOTH]);
    expect(await metric('gateway_supergraph_reload_failing')).toBe(1);
    // The served file put back: nothing to load, nothing failing.
    await writeFile(file, BOTH);
    expect(await manager.check()).toBe('unchanged');
    expect(await metric('gateway_supergraph_reload_failing')).toBe(0);
  });

  it('counts an unreadable file as refused and reads it again at the next look', async () => {
    manager = new SupergraphFileManager({ path: file, watchIntervalMs: 0 });
    await manager.initialize(hooks());
    await rm(file);
    expect(await manager.check()).toBe('refused');
    await writeFile(file, BOOKS_ONLY);
    expect(await manager.check()).toBe('loaded');
  });

  it("follows a ConfigMap-style update (the ..data symlink swapped) in a real gateway's schema", async () => {
    // The layout of a mounted ConfigMap: supergraph.graphql -> ..data/supergraph.graphql, ..data -> a timestamped dir.
    const mount = path.join(dir, 'mount');
    const first = path.join(mount, '..2026_01_01_00_00_00.1');
    const second = path.join(mount, '..2026_01_01_00_01_00.2');
    await mkdir(first, { recursive: true });
    await mkdir(second, { recursive: true });
    await writeFile(path.join(first, 'supergraph.graphql'), BOTH);
    await writeFile(path.join(second, 'supergraph.graphql'), BOOKS_ONLY);
    await symlink(path.basename(first), path.join(mount, '..data'));
    await symlink('..data/supergraph.graphql', path.join(mount, 'supergraph.graphql'));

    manager = new SupergraphFileManager({ path: path.join(mount, 'supergraph.graphql'), watchIntervalMs: 20 });
    const gateway = new ApolloGateway({ supergraphSdl: manager });
    let schema: GraphQLSchema | undefined;
    gateway.onSchemaLoadOrUpdate(({ apiSchema }) => (schema = apiSchema));
    try {
      await gateway.load();
      expect(schema?.getQueryType()?.getFields().films).toBeDefined();
      await symlink(path.basename(second), path.join(mount, '..data_tmp'));
      await rename(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
      await eventually('the gateway to serve the new supergraph', () => schema?.getQueryType()?.getFields().films === undefined);
      expect(schema?.getQueryType()?.getFields().books).toBeDefined();
    } finally {
      await gateway.stop();
    }
  });
});

