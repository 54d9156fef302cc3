import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { createTestDatabase, freePortBlock, graphql, graphqlData, workspaceRoot } from '@multipult/testing';
import { createTenantFor, registerAccount } from './support/accounts';

/**
 * `npm start`'s launcher with nothing but a database configured: every service in a worker thread
 * sharing one in-process store and event bus. A logout must reach the gateway and the content
 * service through that shared store, as it would through Redis.
 */
describe('embedded launcher (npm start)', () => {
  let launcher: ChildProcess | undefined;
  let output = '';
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let basePort: number;
  let gatewayUrl: string;

  beforeAll(async () => {
    // The launcher lays out every listener from two base ports (services, then their /metrics), so
    // each takes a leased block: a random base collided with the test infrastructure's own ports.
    const registryPorts = [SERVICE_REGISTRY.gateway.port, ...SERVICE_REGISTRY.services.map((service) => service.port)];
    const span = Math.max(...registryPorts) - SERVICE_REGISTRY.gateway.port + 1;
    basePort = await freePortBlock(span);
    const metricsBasePort = await freePortBlock(span);
    gatewayUrl = `http://127.0.0.1:${basePort}/graphql`;
    database = await createTestDatabase('embedded');
    const { REDIS_URL: _redis, KAFKA_BROKERS: _kafka, PORT: _port, ...inherited } = process.env;
    const env = { ...inherited, DATABASE_URL: database.url, MULTIPULT_PORT_BASE: String(basePort), MULTIPULT_METRICS_PORT_BASE: String(metricsBasePort), LOG_LEVEL: 'warn' };
    launcher = spawn(process.execPath, [path.join(workspaceRoot(), 'dist/tools/dev/tools/dev/src/launcher.js')], { env });
    launcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 90_000;
    while (!output.includes('Multipult is running')) {
      if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`launcher did not start:\n${output.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((resolve) => launcher?.once('exit', resolve));
      launcher.kill('SIGTERM');
      await exited;
    }
    await database?.drop();
  });

  it('says which stand-ins it uses', () => {
    expect(output).toContain('REDIS_URL not set: one in-process store shared by the services');
    expect(output).toContain('KAFKA_BROKERS not set: one in-process event bus');
  });

  it('serves every subgraph through the gateway and shares revocations between services', async () => {
    const account = await registerAccount(gatewayUrl, 'embedded');
    const tenant = await createTenantFor(gatewayUrl, account);
    const created = await graphqlData<{ createDocument: { document: { owner: { id: string } } } }>(
      gatewayUrl,
      `mutation { createDocument(input: { title: "Embedded", body: "runs in one process", type: ARTICLE, language: "en" }) { document { owner { id } } } }`,
      { token: tenant.accessToken },
    );
    expect(created.createDocument.document.owner.id).toBe(account.userId);

    await graphqlData(gatewayUrl, `mutation { logout { sessionRevoked } }`, { token: tenant.accessToken });
    const viaGateway = await graphql(gatewayUrl, `{ me { id } }`, { token: tenant.accessToken });
    expect(viaGateway.status).toBe(401);
    const contentDirect = await graphql(`http://127.0.0.1:${basePort + 2}/graphql`, `{ documents { totalCount } }`, {
      token: tenant.accessToken,
    });
    expect(contentDirect.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
