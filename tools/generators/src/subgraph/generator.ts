import path from 'node:path';
import { generateFiles, names, workspaceRoot } from '@nx/devkit';
import type { Tree } from '@nx/devkit';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { Document, YAMLMap } from 'yaml';

// Nx loads this file with Node's own TypeScript stripping: erasable syntax only (no enums,
// no parameter properties, `import type` for types), and no relative imports of other .ts files.

export interface SubgraphGeneratorSchema {
  /** Service name: lowercase letters, digits and dashes (`billing`, `export`). */
  name: string;
  /** The example entity's name (`invoice`, `export-job`); `<name>-item` by default. */
  entity?: string;
}

const REGISTRY_FILE = 'libs/registry/src/services.json';
const COMPOSE_FILE = 'docker-compose.yml';
const EVENTS_INDEX = 'libs/events/src/index.ts';
const README = 'README.md';
const NAME_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;

/** The templates live beside this file; Nx and jest both run from the workspace root. */
export const TEMPLATES_DIR = path.join(workspaceRoot, 'tools/generators/src/subgraph/files');

interface RegistryFile {
  gateway: { name: string; port: number };
  services: {
    name: string;
    port: number;
    schema: string;
    issuesTokens: boolean;
    privacyParticipant: boolean;
    subscriptionFields: string[];
    permissions: Record<string, string>;
    testEnv: Record<string, string>;
  }[];
}

function plural(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

export function templateVariables(options: SubgraphGeneratorSchema, port: number, migrationTimestamp: number) {
  const service = names(options.name);
  const entityName = options.entity ?? `${options.name}-item`;
  const entity = names(entityName);
  const entityPlural = names(plural(entity.fileName));
  const schema = options.name.replaceAll('-', '_');
  return {
    name: options.name,
    className: service.className,
    propertyName: service.propertyName,
    schema,
    port,
    migrationTimestamp,
    entityClass: entity.className,
    entityProperty: entity.propertyName,
    entityFile: entity.fileName,
    entitySnake: entity.fileName.replaceAll('-', '_'),
    entityWords: entity.fileName.replaceAll('-', ' '),
    entityArticle: /^[aeiou]/.test(entity.fileName) ? 'an' : 'a',
    entityTable: plural(entity.fileName.replaceAll('-', '_')),
    entityPluralClass: entityPlural.className,
    entityPluralProperty: entityPlural.propertyName,
    entityPluralFile: entityPlural.fileName,
    tmpl: '',
  };
}

type Variables = ReturnType<typeof templateVariables>;

function addToRegistry(tree: Tree, variables: Variables): void {
  const registry = JSON.parse(tree.read(REGISTRY_FILE, 'utf-8') ?? '{}') as RegistryFile;
  registry.services.push({
    name: variables.name,
    port: variables.port,
    schema: variables.schema,
    issuesTokens: false,
    privacyParticipant: false,
    subscriptionFields: [],
    permissions: {
      [`${variables.name}:read`]: `Read the tenant's ${variables.entityWords}s`,
      [`${variables.name}:write`]: `Create ${variables.entityWords}s`,
    },
    testEnv: {},
  });
  tree.write(REGISTRY_FILE, `${formatRegistry(registry)}\n`);
}

/**
 * Two-space JSON as the registry is written by hand: objects and arrays that fit on one line of
 * 120 characters stay on one, so adding a service changes only the lines of that service.
 */
export function formatRegistry(value: unknown, indent = ''): string {
  const inline = formatInline(value);
  if (value === null || typeof value !== 'object' || indent.length + inline.length <= REGISTRY_LINE_WIDTH - 24) return inline;
  const inner = `${indent}  `;
  const entries = Array.isArray(value)
    ? value.map((item) => `${inner}${formatRegistry(item, inner)}`)
    : Object.entries(value).map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatRegistry(item, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${entries.join(',\n')}\n${indent}${close}`;
}

const REGISTRY_LINE_WIDTH = 120;

function formatInline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(formatInline).join(', ')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${formatInline(item)}`);
  return entries.length ? `{ ${entries.join(', ')} }` : '{}';
}

function exportContracts(tree: Tree, name: string): void {
  const index = tree.read(EVENTS_INDEX, 'utf-8') ?? '';
  const line = `export * from './lib/contracts/${name}.events';`;
  const lines = index.split('\n');
  const lastContract = lines.map((text, i) => (text.startsWith("export * from './lib/contracts/") ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  lines.splice(lastContract + 1, 0, line);
  tree.write(EVENTS_INDEX, lines.join('\n'));
}

/** Adds the service to docker-compose.yml like its siblings, and to the gateway's routes and start order. */
function addToCompose(tree: Tree, variables: Variables, issuer: { name: string; port: number }, gatewayName: string): void {
  const text = tree.read(COMPOSE_FILE, 'utf-8');
  if (!text) return;
  const document: Document = parseDocument(text, { merge: true });
  const services = document.get('services') as YAMLMap;
  const sharedEnvironment = document.get('x-service-env', true);
  const environment = document.createNode({
    PORT: variables.port,
    DATABASE_URL: 'postgres://multipult:multipult@postgres:5432/multipult',
    AUTH_JWKS_URL: `http://${issuer.name}:${issuer.port}/.well-known/jwks.json`,
  }) as YAMLMap;
  if (isMap(sharedEnvironment) && sharedEnvironment.anchor) {
    environment.items.unshift(document.createPair('<<', document.createAlias(sharedEnvironment)) as (typeof environment.items)[number]);
  }
  const service = document.createNode({
    build: { context: '.', dockerfile: 'deploy/Dockerfile', args: { APP: variables.name } },
    environment: {},
    depends_on: { [issuer.name]: { condition: 'service_healthy' } },
    healthcheck: {
      test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${variables.port}/health/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))`],
      interval: '5s',
      timeout: '3s',
      retries: 30,
    },
  }) as YAMLMap;
  service.set('environment', environment);
  for (const flowPath of [['build', 'args'], ['depends_on', issuer.name], ['healthcheck', 'test']]) {
    const node = service.getIn(flowPath, true);
    if (isMap(node) || isSeq(node)) node.flow = true;
  }
  const keyOf = (pair: { key: unknown }) => String((pair.key as { value?: unknown })?.value ?? pair.key);
  const gatewayIndex = services.items.findIndex((pair) => keyOf(pair) === gatewayName);
  const key = document.createNode(variables.name);
  key.spaceBefore = true;
  services.items.splice(
    gatewayIndex < 0 ? services.items.length : gatewayIndex,
    0,
    document.createPair(key, service) as (typeof services.items)[number],
  );

  const gateway = services.get(gatewayName) as YAMLMap | undefined;
  if (gateway) {
    const routes = String(gateway.getIn(['environment', 'SUBGRAPHS']) ?? '');
    const route = `${variables.name}=http://${variables.name}:${variables.port}/graphql`;
    gateway.setIn(['environment', 'SUBGRAPHS'], routes ? `${routes},${route}` : route);
    const condition = document.createNode({ condition: 'service_healthy' }) as YAMLMap;
    condition.flow = true;
    (gateway.get('depends_on') as YAMLMap | undefined)?.set(variables.name, condition);
  }
  tree.write(COMPOSE_FILE, document.toString({ lineWidth: 0, flowCollectionPadding: true }));
}

function addToReadme(tree: Tree, variables: Variables): void {
  const readme = tree.read(README, 'utf-8');
  if (!readme) return;
  const lines = readme.split('\n');
  const header = lines.findIndex((line) => line.startsWith('| Service | Port |'));
  if (header < 0) return;
  let last = header + 1;
  while (lines[last + 1]?.startsWith('|')) last += 1;
  lines.splice(
    last + 1,
    0,
    `| ${variables.name} | ${variables.port} | ${variables.entityClass}s of a tenant (generated: describe the service here) | [docs/api/${variables.name}.md](docs/api/${variables.name}.md) |`,
  );
  tree.write(README, lines.join('\n'));
}

/**
 * `npx nx g @multipult/tools:subgraph <name>`: a working service on the subgraph kit, listed in the
 * service registry (so npm start, the test harness, composition and the gateway pick it up), with
 * one federated entity, a migration, a mutation that publishes an event through the outbox, a
 * consumer of that event, a unit spec, an end-to-end spec through the gateway and a docs page.
 */
export default async function subgraphGenerator(tree: Tree, options: SubgraphGeneratorSchema): Promise<void> {
  if (!NAME_PATTERN.test(options.name)) throw new Error(`service name "${options.name}" must match ${NAME_PATTERN}`);
  if (options.entity !== undefined && !NAME_PATTERN.test(options.entity)) {
    throw new Error(`entity name "${options.entity}" must match ${NAME_PATTERN}`);
  }
  const registry = JSON.parse(tree.read(REGISTRY_FILE, 'utf-8') ?? 'null') as RegistryFile | null;
  if (!registry) throw new Error(`${REGISTRY_FILE} not found: run the generator in the Multipult workspace`);
  if ([registry.gateway.name, ...registry.services.map((s) => s.name)].includes(options.name) || tree.exists(`apps/${options.name}`)) {
    throw new Error(`a service or app named "${options.name}" exists already`);
  }
  const port = Math.max(registry.gateway.port, ...registry.services.map((s) => s.port)) + 1;
  const variables = templateVariables(options, port, Date.now());
  const issuer = registry.services.find((s) => s.issuesTokens) ?? registry.services[0];

  generateFiles(tree, path.join(TEMPLATES_DIR, 'app'), `apps/${options.name}`, variables);
  generateFiles(tree, path.join(TEMPLATES_DIR, 'contracts'), 'libs/events/src/lib/contracts', variables);
  generateFiles(tree, path.join(TEMPLATES_DIR, 'e2e'), 'apps/platform-e2e/src', variables);
  generateFiles(tree, path.join(TEMPLATES_DIR, 'docs'), 'docs/api', variables);
  exportContracts(tree, options.name);
  addToRegistry(tree, variables);
  addToCompose(tree, variables, issuer, registry.gateway.name);
  addToReadme(tree, variables);
}
