import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kind, ObjectTypeDefinitionNode, parse, print, visit } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { SUBGRAPH_SERVICES } from '@multipult/registry';
import { Platform, graphqlData, workspaceRoot } from '@multipult/testing';
import { usePlatform } from './support/platforms';

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs npm run schema:<command> (the script it names) and returns its exit code and output. */
async function schema(command: 'check' | 'publish', args: string[]): Promise<Outcome> {
  const script = path.join(workspaceRoot(), 'tools/schema', `${command}.mjs`);
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as Outcome;
    return { code, stdout, stderr };
  }
}

/** The SDL without the first field of its Query type, and that field's name. */
function withoutFirstQueryField(sdl: string): { sdl: string; field: string } {
  let field: string | undefined;
  const document = visit(parse(sdl), {
    ObjectTypeDefinition(node: ObjectTypeDefinitionNode) {
      if (node.name.value !== 'Query' || field || !node.fields?.length) return undefined;
      field = node.fields[0].name.value;
      return { ...node, fields: node.fields.slice(1) };
    },
  });
  if (!field) throw new Error('the SDL has no Query fields');
  return { sdl: print(document), field };
}

describe('schema:check and schema:publish', () => {
  let platform: Platform;
  let dir: string;
  const liveSdl = async (service: string) =>
    (await graphqlData<{ _service: { sdl: string } }>(platform.urls[service], '{ _service { sdl } }'))._service.sdl;

  beforeAll(async () => {
    platform = await usePlatform('default');
    dir = await mkdtemp(path.join(os.tmpdir(), 'schema-check-'));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(SUBGRAPH_SERVICES.map((service) => service.name))(
    "passes %s's live schema against the committed supergraph",
    async (service) => {
      const outcome = await schema('check', [service, '--url', platform.urls[service]]);
      expect(outcome).toMatchObject({ code: 0, stdout: expect.stringContaining('composition: ok') });
      expect(outcome.stdout).toContain('breaking changes (0)');
      expect(outcome.stdout).toMatch(/passed\n$/);
    },
  );

  it('fails on a schema that does not compose, listing every composition error', async () => {
    const sdlFile = path.join(dir, 'content-conflict.graphql');
    // auth owns Query.me as User!: another type for it in content cannot compose.
    await writeFile(sdlFile, `${await liveSdl('content')}\nextend type Query { me: String }\n`);
    const outcome = await schema('check', ['content', '--sdl', sdlFile]);
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toContain('composition errors (');
    expect(outcome.stdout).toContain('Query.me');
    expect(outcome.stdout).toContain("FAILED: content's schema does not compose");
  });

  it('reports a removed field as breaking and fails, unless breaking changes are allowed', async () => {
    const { sdl, field } = withoutFirstQueryField(await liveSdl('content'));
    const sdlFile = path.join(dir, 'content-without-field.graphql');
    await writeFile(sdlFile, sdl);

    const refused = await schema('check', ['content', '--sdl', sdlFile]);
    expect(refused.code).toBe(1);
    const breaking = refused.stdout.slice(refused.stdout.indexOf('breaking changes ('), refused.stdout.indexOf('dangerous changes ('));
    expect(breaking).toContain(`Field '${field}' was removed from object type 'Query'`);
    expect(refused.stdout).toContain('FAILED: ');

    const allowed = await schema('check', ['content', '--sdl', sdlFile, '--allow-breaking']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`Field '${field}' was removed from object type 'Query'`);
    expect(allowed.stdout).toContain('breaking change(s) allowed');
  });

  it('publishes the composed supergraph as the ConfigMap the gateway mounts', async () => {
    const committed = await readFile(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), 'utf8');
    const outcome = await schema('publish', [`content=${platform.urls.content}`, '--namespace', 'multipult-e2e']);
    expect(outcome.code).toBe(0);
    const manifest = parseYaml(outcome.stdout);
    expect(manifest).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'multipult-supergraph',
        namespace: 'multipult-e2e',
        labels: { 'app.kubernetes.io/part-of': 'multipult', 'app.kubernetes.io/component': 'supergraph' },
      },
      data: { 'supergraph.graphql': expect.any(String) },
    });
    // content unchanged: the same supergraph as the committed one, descriptions and all.
    expect(manifest.data['supergraph.graphql']).toBe(committed);
  });

  it('with --write updates the supergraph file; with --name and --out names and places the manifest', async () => {
    const supergraphFile = path.join(dir, 'supergraph.graphql');
    await copyFile(path.join(workspaceRoot(), 'deploy/supergraph.graphql'), supergraphFile);
    const { sdl, field } = withoutFirstQueryField(await liveSdl('content'));
    const sdlFile = path.join(dir, 'content-next.graphql');
    await writeFile(sdlFile, sdl);
    const manifestFile = path.join(dir, 'configmap.yaml');

    const outcome = await schema('publish', [`content=${sdlFile}`, '--supergraph', supergraphFile, '--write', '--name', 'staging-supergraph', '--out', manifestFile]);
    expect(outcome).toMatchObject({ code: 0, stdout: '' });
    const written = await readFile(supergraphFile, 'utf8');
    const queryType = parse(written).definitions.find(
      (definition): definition is ObjectTypeDefinitionNode => definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Query',
    );
    expect(queryType?.fields?.map((definition) => definition.name.value)).not.toContain(field);
    const manifest = parseYaml(await readFile(manifestFile, 'utf8'));
    expect(manifest.metadata).toMatchObject({ name: 'staging-supergraph' });
    expect(manifest.metadata.namespace).toBeUndefined();
    expect(manifest.data).toEqual({ 'supergraph.graphql': written });
  });

  it('publishes nothing when the schemas do not compose', async () => {
    const sdlFile = path.join(dir, 'content-broken.graphql');
    await writeFile(sdlFile, 'type Query { me: String }');
    const outcome = await schema('publish', [`content=${sdlFile}`]);
    expect(outcome).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('composition errors (') });
  });
});
