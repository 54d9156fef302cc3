import { ApolloGateway } from '@apollo/gateway';
import { loadConfig } from '@multipult/config';
import { gatewayConfigSchema } from '../config';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { FederatedOperations } from './federated-operations';
import { applyApolloTelemetrySetting, gatewayOptions } from './gateway-options';
import { queryLimitsOf } from './query-limits.plugin';
import { SubgraphClient } from './subgraph-client';

const env = { AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json', SUBGRAPHS: 'auth=http://127.0.0.1:1/graphql' };

describe("@apollo/gateway's telemetry", () => {
  const before = process.env.APOLLO_TELEMETRY_DISABLED;
  beforeEach(() => delete process.env.APOLLO_TELEMETRY_DISABLED);
  afterAll(() => {
    if (before === undefined) delete process.env.APOLLO_TELEMETRY_DISABLED;
    else process.env.APOLLO_TELEMETRY_DISABLED = before;
  });

  it('is off unless the operator opts in, before any ApolloGateway exists', async () => {
    const config = loadConfig(gatewayConfigSchema, env);
    const operations = new FederatedOperations(new Map(), new SubgraphClient(), queryLimitsOf(config));
    const options = gatewayOptions(config, new SupergraphRoutes(), operations);
    // Checked before constructing: a gateway with telemetry on would probe cloud metadata endpoints.
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('true');
    const gateway = new ApolloGateway(options.gateway);
    // The usage reporter is the only thing a new gateway registers for disposal.
    expect((gateway as unknown as { toDispose: unknown[] }).toDispose).toEqual([]);
    await gateway.stop();
    await operations.onApplicationShutdown();
  });

  it('is on only when APOLLO_TELEMETRY_DISABLED=false', () => {
    applyApolloTelemetrySetting(loadConfig(gatewayConfigSchema, { ...env, APOLLO_TELEMETRY_DISABLED: 'false' }));
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('false');
    applyApolloTelemetrySetting(loadConfig(gatewayConfigSchema, { ...env, APOLLO_TELEMETRY_DISABLED: 'true' }));
    expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe('true');
  });
});
