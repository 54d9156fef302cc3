import { PRIVACY_PARTICIPANT_NAMES, REGISTERED_TENANT_PERMISSIONS, SUBGRAPH_SERVICES, graphqlUrlVariable, parseServiceRegistry, subscriptionOwner } from './registry';

const service = (name: string, port: number, extra: Record<string, unknown> = {}) => ({
  name,
  port,
  schema: name,
  issuesTokens: false,
  privacyParticipant: false,
  subscriptionFields: [],
  permissions: {},
  testEnv: {},
  ...extra,
});

describe('service registry', () => {
  it('starts the token issuer first', () => {
    expect(SUBGRAPH_SERVICES[0]).toMatchObject({ name: 'auth', issuesTokens: true });
    expect(SUBGRAPH_SERVICES.filter((s) => s.issuesTokens)).toHaveLength(1);
  });

  it('derives the privacy participants, the permission catalogue and subscription owners', () => {
    expect(PRIVACY_PARTICIPANT_NAMES).toEqual(expect.arrayContaining(['content', 'notifications']));
    expect(PRIVACY_PARTICIPANT_NAMES).not.toContain('auth');
    expect(REGISTERED_TENANT_PERMISSIONS['content:read']).toBeTruthy();
    expect(REGISTERED_TENANT_PERMISSIONS['tenant:manage_roles']).toBeTruthy();
    expect(subscriptionOwner('notificationAdded')?.name).toBe('notifications');
    expect(subscriptionOwner('me')).toBeUndefined();
  });

  it('refuses duplicate names, ports, schemas, subscription fields and permissions', () => {
    const registry = {
      gateway: { name: 'gateway', port: 4000 },
      services: [
        service('auth', 4001, { issuesTokens: true, subscriptionFields: ['x'], permissions: { 'a:read': 'A' } }),
        service('auth', 4000, { subscriptionFields: ['x'], permissions: { 'a:read': 'A' } }),
      ],
    };
    expect(() => parseServiceRegistry(registry)).toThrow(
      /service name auth is used twice.*port 4000 is used twice.*schema auth is used twice.*subscription field x is used twice.*permission a:read is used twice/,
    );
  });

  it('needs exactly one token issuer and well-formed entries', () => {
    expect(() =>
      parseServiceRegistry({ gateway: { name: 'gateway', port: 4000 }, services: [service('content', 4002)] }),
    ).toThrow('exactly one service issues tokens');
    expect(() =>
      parseServiceRegistry({
        gateway: { name: 'gateway', port: 4000 },
        services: [service('Bad Name', 80, { issuesTokens: true })],
      }),
    ).toThrow(/services\.0\.name.*services\.0\.port/);
  });

  it('lets a service call other subgraphs directly, each given by a <NAME>_GRAPHQL_URL, one level deep', () => {
    const registry = (exportCalls: string[], contentCalls: string[] = []) => ({
      gateway: { name: 'gateway', port: 4000 },
      services: [
        service('auth', 4001, { issuesTokens: true }),
        service('content', 4002, { calls: contentCalls }),
        service('export', 4004, { calls: exportCalls, delegates: ['content:read'] }),
      ],
    });
    expect(parseServiceRegistry(registry(['content'])).services[2]).toMatchObject({ calls: ['content'], delegates: ['content:read'] });
    expect(parseServiceRegistry(registry([])).services[1]).toMatchObject({ calls: [], delegates: [] });
    expect(() => parseServiceRegistry(registry(['billing']))).toThrow('export calls billing');
    expect(() => parseServiceRegistry(registry(['content'], ['auth']))).toThrow('export calls content');
    expect(graphqlUrlVariable('content')).toBe('CONTENT_GRAPHQL_URL');
    expect(graphqlUrlVariable('data-room')).toBe('DATA_ROOM_GRAPHQL_URL');
  });
});
