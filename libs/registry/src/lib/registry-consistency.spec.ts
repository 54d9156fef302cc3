import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse as parseGraphQL, Kind, ObjectTypeDefinitionNode, StringValueNode, EnumValueNode } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { SERVICE_REGISTRY, SUBGRAPH_SERVICES, graphqlUrlVariable } from './registry';

/** The files that list services besides the registry must agree with it; these checks keep them honest. */
const root = path.resolve(__dirname, '../../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [full] : [];
  });
}

interface ComposeService {
  image?: string;
  environment?: Record<string, string | number>;
  build?: { dockerfile?: string; args?: { APP?: string } };
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** The infrastructure of docker-compose.yml: its service name, and the variable through which a service that uses it names it. */
const INFRASTRUCTURE = [
  { name: 'postgres', variable: 'DATABASE_URL' },
  { name: 'redis', variable: 'REDIS_URL' },
  { name: 'kafka', variable: 'KAFKA_BROKERS' },
  { name: 'mailpit', variable: 'SMTP_URL' },
  { name: 'opensearch', variable: 'SEARCH_ENGINE_URL' },
];

describe('service registry against the rest of the repository', () => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as ComposeFile;

  it('docker-compose runs every registered service on its port, and only those', () => {
    const built = Object.entries(compose.services)
      .filter(([, service]) => service.build?.args?.APP)
      .map(([name, service]) => ({ name, app: service.build?.args?.APP, port: Number(service.environment?.PORT) }));
    const expected = [SERVICE_REGISTRY.gateway, ...SERVICE_REGISTRY.services].map(({ name, port }) => ({ name, app: name, port }));
    expect(built.sort((a, b) => a.port - b.port)).toEqual(expected.sort((a, b) => a.port - b.port));
  });

  it('docker-compose runs the registered services, the gateway and the infrastructure, each with a health check', () => {
    const expected = [SERVICE_REGISTRY.gateway, ...SERVICE_REGISTRY.services].map(({ name }) => name).concat(INFRASTRUCTURE.map(({ name }) => name));
    expect(Object.keys(compose.services).sort()).toEqual(expected.sort());
    const withoutHealthcheck = Object.entries(compose.services).filter(([, service]) => !service.healthcheck?.test?.length);
    expect(withoutHealthcheck.map(([name]) => name)).toEqual([]);
  });

  it('docker-compose starts each service after the infrastructure it is configured for is healthy, and waits for health only', () => {
    for (const name of [SERVICE_REGISTRY.gateway, ...SERVICE_REGISTRY.services].map((entry) => entry.name)) {
      const service = compose.services[name];
      const uses = INFRASTRUCTURE.filter(({ name: host, variable }) => new RegExp(`\\b${host}:\\d+`).test(String(service.environment?.[variable] ?? '')));
      const dependsOn = service.depends_on ?? {};
      expect({ name, waitsFor: uses.filter(({ name: host }) => host in dependsOn).map(({ name: host }) => host) }).toEqual({
        name,
        waitsFor: uses.map(({ name: host }) => host),
      });
      expect({ name, conditions: [...new Set(Object.values(dependsOn).map((dependency) => dependency.condition))] }).toEqual({
        name,
        conditions: ['service_healthy'],
      });
    }
  });

  it("the image exposes every registered port and the metrics port, and checks the service's health", () => {
    const dockerfile = read('deploy/Dockerfile');
    const exposed = [...dockerfile.matchAll(/^EXPOSE (.+)$/gm)].flatMap((match) => match[1].split(/\s+/).map(Number));
    const ports = [SERVICE_REGISTRY.gateway, ...SERVICE_REGISTRY.services].map(({ port }) => port);
    expect(exposed.sort()).toEqual([...ports, 9464].sort());
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\\\n\s+CMD .*\/health\/ready/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it("the compose gateway routes to every registered subgraph at its compose address", () => {
    const subgraphs = String(compose.services[SERVICE_REGISTRY.gateway.name].environment?.SUBGRAPHS).split(',').sort();
    expect(subgraphs).toEqual(SERVICE_REGISTRY.services.map(({ name, port }) => `${name}=http://${name}:${port}/graphql`).sort());
  });

  it('docker-compose tells each service where the subgraphs it calls listen, and starts it after them', () => {
    for (const service of SERVICE_REGISTRY.services) {
      const composed = compose.services[service.name] as ComposeFile['services'][string] & { depends_on?: Record<string, unknown> };
      for (const called of service.calls) {
        const target = SERVICE_REGISTRY.services.find((candidate) => candidate.name === called);
        expect({ service: service.name, url: composed.environment?.[graphqlUrlVariable(called)] }).toEqual({
          service: service.name,
          url: `http://${called}:${target?.port}/graphql`,
        });
        expect(Object.keys(composed.depends_on ?? {})).toContain(called);
      }
    }
  });

  it('the committed supergraph has exactly the registered subgraphs, and each owns the subscription fields the registry names', () => {
    const document = parseGraphQL(read('deploy/supergraph.graphql'));
    const graphs = document.definitions
      .filter((definition) => definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph')
      .flatMap((definition) => (definition.kind === Kind.ENUM_TYPE_DEFINITION ? definition.values ?? [] : []))
      .map((value) => {
        const graph = value.directives?.find((directive) => directive.name.value === 'join__graph');
        const name = graph?.arguments?.find((argument) => argument.name.value === 'name')?.value as StringValueNode;
        return { enumValue: value.name.value, name: name.value };
      });
    expect(graphs.map((graph) => graph.name).sort()).toEqual(SERVICE_REGISTRY.services.map((s) => s.name).sort());

    const subscription = document.definitions.find(
      (definition): definition is ObjectTypeDefinitionNode =>
        definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Subscription',
    );
    const typeOwner = subscription?.directives
      ?.filter((directive) => directive.name.value === 'join__type')
      .map((directive) => (directive.arguments?.find((argument) => argument.name.value === 'graph')?.value as EnumValueNode).value);
    const owners = Object.fromEntries(
      (subscription?.fields ?? []).map((field) => {
        const own = field.directives?.find((directive) => directive.name.value === 'join__field');
        const graph = (own?.arguments?.find((argument) => argument.name.value === 'graph')?.value as EnumValueNode | undefined)?.value;
        const enumValue = graph ?? (typeOwner?.length === 1 ? typeOwner[0] : undefined);
        return [field.name.value, graphs.find((g) => g.enumValue === enumValue)?.name];
      }),
    );
    const registered = Object.fromEntries(SUBGRAPH_SERVICES.flatMap((s) => s.subscriptionFields.map((field) => [field, s.name])));
    expect(owners).toEqual(registered);
  });

  it("every permission a service checks is registered under that service", () => {
    const checked = /(?:RequirePermissions|hasPermission)\(([^)]*)\)/g;
    const permission = /'([a-z][a-z0-9_-]*:[a-z_*]+)'/g;
    const misplaced: string[] = [];
    for (const service of SERVICE_REGISTRY.services) {
      for (const file of sourceFiles(path.join(root, 'apps', service.name, 'src'))) {
        for (const call of readFileSync(file, 'utf8').matchAll(checked)) {
          for (const [, name] of call[1].matchAll(permission)) {
            if (!(name in service.permissions)) misplaced.push(`${path.relative(root, file)}: ${name}`);
          }
        }
      }
    }
    expect(misplaced).toEqual([]);
  });

  it('every registered service is an app of the workspace with its own schema migrations', () => {
    for (const service of SERVICE_REGISTRY.services) {
      expect(read(`apps/${service.name}/project.json`)).toContain('"type:app"');
      expect(read(`apps/${service.name}/src/migrations/index.ts`)).toContain(`export const`);
    }
  });
});
