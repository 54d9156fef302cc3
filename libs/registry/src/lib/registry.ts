import { z } from 'zod';
import registryFile from '../services.json';

const serviceName = z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'lowercase letters, digits and dashes');

const serviceEntrySchema = z.object({
  name: serviceName,
  port: z.number().int().min(1024).max(65535),
  /** PostgreSQL schema the service owns. */
  schema: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  /** Publishes the JWKS every other service verifies access tokens with (started first). */
  issuesTokens: z.boolean(),
  /** Holds user data: takes part in the GDPR export and erasure sagas. */
  privacyParticipant: z.boolean(),
  /** Root Subscription fields the service owns; the gateway routes /graphql/ws subscriptions by them. */
  subscriptionFields: z.array(z.string().regex(/^[a-z][A-Za-z0-9]*$/)),
  /** Tenant permissions the service checks (`family:action` → description); the catalogue custom roles draw from. */
  permissions: z.record(z.string().regex(/^[a-z][a-z0-9_-]*:[a-z_]+$/), z.string().min(1)),
  /**
   * Tenant permissions the service may act with on a user's behalf (delegated tokens from the
   * issuer, e.g. an export job reading documents as the user who asked for it); none when absent.
   */
  /**
   * Subgraphs the service calls directly (not through the gateway): it gets `<NAME>_GRAPHQL_URL`
   * for each, and starts after them.
   */
  calls: z.array(serviceName).default([]),
  delegates: z.array(z.string().regex(/^[a-z][a-z0-9_-]*:[a-z_]+$/)).default([]),
  /** Variables the test harness gives the service on top of the shared ones (faster hashing, shorter polls). */
  testEnv: z.record(z.string(), z.string()),
});

const registrySchema = z
  .object({
    gateway: z.object({ name: serviceName, port: z.number().int().min(1024).max(65535) }),
    services: z.array(serviceEntrySchema).min(1),
  })
  .superRefine((registry, ctx) => {
    const unique = (values: (string | number)[], what: string) => {
      const seen = new Set<string | number>();
      for (const value of values) {
        if (seen.has(value)) ctx.addIssue({ code: 'custom', message: `${what} ${value} is used twice` });
        seen.add(value);
      }
    };
    unique([registry.gateway.name, ...registry.services.map((s) => s.name)], 'service name');
    unique([registry.gateway.port, ...registry.services.map((s) => s.port)], 'port');
    unique(registry.services.map((s) => s.schema), 'schema');
    unique(registry.services.flatMap((s) => s.subscriptionFields), 'subscription field');
    unique(registry.services.flatMap((s) => Object.keys(s.permissions)), 'permission');
    const names = new Set(registry.services.map((s) => s.name));
    for (const service of registry.services) {
      for (const called of service.calls) {
        const target = registry.services.find((s) => s.name === called);
        // The test harness starts services in two waves, so a called service may not call others itself.
        if (!names.has(called) || called === service.name || target?.calls.length) {
          ctx.addIssue({ code: 'custom', message: `${service.name} calls ${called}, which must be another registered service that calls none` });
        }
      }
    }
    if (registry.services.filter((s) => s.issuesTokens).length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'exactly one service issues tokens' });
    }
  });

export type ServiceEntry = z.infer<typeof serviceEntrySchema>;
export type ServiceRegistry = z.infer<typeof registrySchema>;

/** Validates a registry document; the message names every problem. */
export function parseServiceRegistry(document: unknown): ServiceRegistry {
  const result = registrySchema.safeParse(document);
  if (!result.success) {
    throw new Error(`invalid service registry: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** The platform's services, from libs/registry/src/services.json. */
export const SERVICE_REGISTRY: ServiceRegistry = parseServiceRegistry(registryFile);

/** The subgraphs in start order: the token issuer first, the rest as listed. */
export const SUBGRAPH_SERVICES: readonly ServiceEntry[] = [
  ...SERVICE_REGISTRY.services.filter((s) => s.issuesTokens),
  ...SERVICE_REGISTRY.services.filter((s) => !s.issuesTokens),
];

/** The variable that tells a service where a subgraph it calls listens, e.g. CONTENT_GRAPHQL_URL. */
export const graphqlUrlVariable = (service: string) => `${service.toUpperCase().replaceAll('-', '_')}_GRAPHQL_URL`;

export function serviceEntry(name: string): ServiceEntry {
  const entry = SERVICE_REGISTRY.services.find((s) => s.name === name);
  if (!entry) throw new Error(`${name} is not in the service registry (libs/registry/src/services.json)`);
  return entry;
}

/** Services that must confirm erasures and send their part of data exports. */
export const PRIVACY_PARTICIPANT_NAMES: readonly string[] = SERVICE_REGISTRY.services
  .filter((s) => s.privacyParticipant)
  .map((s) => s.name);

/** Every tenant permission any service checks, with what it allows. */
export const REGISTERED_TENANT_PERMISSIONS: Readonly<Record<string, string>> = Object.freeze(
  Object.assign({}, ...SERVICE_REGISTRY.services.map((s) => s.permissions)),
);

/** The service that owns a root Subscription field, if any does. */
export function subscriptionOwner(field: string): ServiceEntry | undefined {
  return SERVICE_REGISTRY.services.find((s) => s.subscriptionFields.includes(field));
}
