import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Tree } from '@nx/devkit';
import { workspaceRoot } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse as parseYaml } from 'yaml';
import { parseServiceRegistry } from '@multipult/registry';
import subgraphGenerator from './generator';

/** The real files the generator edits, copied into an in-memory tree. */
const EDITED_FILES = ['libs/registry/src/services.json', 'docker-compose.yml', 'libs/events/src/index.ts', 'README.md'];

function workspaceTree(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const file of EDITED_FILES) tree.write(file, readFileSync(path.join(workspaceRoot, file), 'utf8'));
  return tree;
}

const text = (tree: Tree, file: string) => tree.read(file, 'utf-8') ?? '';

describe('subgraph generator', () => {
  let tree: Tree;

  beforeEach(async () => {
    tree = workspaceTree();
    await subgraphGenerator(tree, { name: 'billing', entity: 'invoice' });
  });

  it('creates an app on the subgraph kit with a feature module, entity, migration, consumer and unit spec', () => {
    const app = 'apps/billing';
    for (const file of [
      'project.json',
      'tsconfig.json',
      'tsconfig.app.json',
      'jest.config.js',
      'eslint.config.mjs',
      'src/main.ts',
      'src/config.ts',
      'src/app.module.ts',
      'src/messages.ts',
      'src/migrations/index.ts',
      'src/invoices/invoice.entity.ts',
      'src/invoices/dto.ts',
      'src/invoices/dto.spec.ts',
      'src/invoices/invoices.module.ts',
      'src/invoices/invoices.resolver.ts',
      'src/invoices/invoices.service.ts',
      'src/invoices/invoice-tally.consumer.ts',
    ]) {
      expect(tree.exists(`${app}/${file}`)).toBe(true);
    }
    expect(JSON.parse(text(tree, `${app}/project.json`))).toMatchObject({ name: 'billing', tags: ['type:app', 'scope:billing'] });
    expect(text(tree, `${app}/src/invoices/invoice.entity.ts`)).toContain('@Directive(\'@key(fields: "id")\')');
    expect(text(tree, `${app}/src/invoices/invoices.resolver.ts`)).toContain('@ResolveReference()');
    expect(text(tree, `${app}/src/invoices/invoices.service.ts`)).toContain('this.outbox.enqueue(manager, InvoiceCreated');
    expect(text(tree, `${app}/src/invoices/invoice-tally.consumer.ts`)).toContain("groupId: 'billing.invoice-tally'");
    const migrations = tree.children(`${app}/src/migrations`).filter((file) => file !== 'index.ts');
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatch(/^\d{13}-create-billing-schema\.ts$/);
    expect(text(tree, `${app}/src/migrations/${migrations[0]}`)).toContain('CREATE TABLE invoices (');
    // No template placeholder survives.
    for (const file of tree.listChanges().map((change) => change.path)) expect(text(tree, file)).not.toMatch(/<%|%>|__\w+__/);
  });

  it('writes "an" before an entity name that starts with a vowel, in messages, docs and the e2e spec', async () => {
    const vowelTree = workspaceTree();
    await subgraphGenerator(vowelTree, { name: 'assistants', entity: 'agent' });
    expect(text(vowelTree, 'apps/assistants/src/messages.ts')).toContain("'An agent with this name already exists'");
    expect(text(vowelTree, 'docs/api/assistants.md')).toContain('Creates an agent');
    expect(text(vowelTree, 'apps/platform-e2e/src/assistants.spec.ts')).toContain('creates an agent');
    expect(text(tree, 'apps/billing/src/messages.ts')).toContain("'An invoice with this name already exists'");
  });

  it('lists the service in the registry on the next free port, with its permissions', () => {
    const registry = parseServiceRegistry(JSON.parse(text(tree, 'libs/registry/src/services.json')));
    const billing = registry.services.find((service) => service.name === 'billing');
    const ports = registry.services.filter((service) => service.name !== 'billing').map((service) => service.port);
    expect(billing).toMatchObject({
      port: Math.max(registry.gateway.port, ...ports) + 1,
      schema: 'billing',
      issuesTokens: false,
      permissions: { 'billing:read': expect.any(String), 'billing:write': expect.any(String) },
    });
  });

  it('keeps the registry as written by hand: adding a service only adds its lines', () => {
    const before = readFileSync(path.join(workspaceRoot, 'libs/registry/src/services.json'), 'utf8').split('\n');
    const after = text(tree, 'libs/registry/src/services.json').split('\n');
    const removed = before.filter((line) => !after.includes(line));
    expect(removed).toEqual([]);
    expect(after.length - before.length).toBeLessThan(15);
  });

  it('adds a versioned event contract to libs/events and exports it', () => {
    expect(text(tree, 'libs/events/src/lib/contracts/billing.events.ts')).toContain("topic: 'billing.invoice.v1'");
    expect(text(tree, 'libs/events/src/index.ts')).toContain("export * from './lib/contracts/billing.events';");
  });

  it('adds the service to docker-compose, the gateway routes and the README, and an e2e spec and docs page', () => {
    const compose = parseYaml(text(tree, 'docker-compose.yml'), { merge: true }) as {
      services: Record<string, { environment: Record<string, string | number>; depends_on: Record<string, unknown> }>;
    };
    const port = parseServiceRegistry(JSON.parse(text(tree, 'libs/registry/src/services.json'))).services.find(
      (service) => service.name === 'billing',
    )?.port;
    expect(compose.services.billing.environment).toMatchObject({ PORT: port, NODE_ENV: 'production', AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' });
    expect(String(compose.services.gateway.environment.SUBGRAPHS)).toContain(`billing=http://billing:${port}/graphql`);
    expect(compose.services.gateway.depends_on).toHaveProperty('billing');
    expect(text(tree, 'README.md')).toContain(`| billing | ${port} |`);
    expect(text(tree, 'apps/platform-e2e/src/billing.spec.ts')).toContain('createInvoice');
    expect(text(tree, 'docs/api/billing.md')).toContain('invoice.created');
  });

  it('refuses a taken or malformed name and changes nothing', async () => {
    const before = text(tree, 'libs/registry/src/services.json');
    await expect(subgraphGenerator(tree, { name: 'billing' })).rejects.toThrow('exists already');
    await expect(subgraphGenerator(tree, { name: 'auth' })).rejects.toThrow('exists already');
    await expect(subgraphGenerator(tree, { name: 'Bad Name' })).rejects.toThrow('must match');
    expect(text(tree, 'libs/registry/src/services.json')).toBe(before);
  });
});
