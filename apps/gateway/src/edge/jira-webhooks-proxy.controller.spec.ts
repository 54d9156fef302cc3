import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import http from 'node:http';
import net from 'node:net';
import { ConfigModule, loadConfig } from '@multipult/config';
import { configureServiceApp } from '@multipult/graphql';
import { ObservabilityModule } from '@multipult/observability';
import { freePort } from '@multipult/testing';
import { gatewayConfigSchema } from '../config';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { JiraWebhooksProxyController, jiraWebhookUpstream } from './jira-webhooks-proxy.controller';

const SUPERGRAPH = `enum join__Graph {
  AUTH @join__graph(name: "auth", url: "http://auth.internal:4001/graphql")
  EXPORT @join__graph(name: "export", url: "https://export.internal/api/graphql")
}`;

function routesOf(supergraph: string, subgraphs: { name: string; url: string }[] = []): SupergraphRoutes {
  const routes = new SupergraphRoutes(new Map(subgraphs.map(({ name, url }) => [name, url])));
  routes.update(supergraph);
  return routes;
}

describe('jiraWebhookUpstream', () => {
  it("is the export service's origin and base path from the routing table, SUBGRAPHS first", () => {
    expect(jiraWebhookUpstream(routesOf(SUPERGRAPH))?.href).toBe('https://export.internal/api');
    expect(jiraWebhookUpstream(routesOf(SUPERGRAPH, [{ name: 'export', url: 'http://127.0.0.1:5004/graphql' }]))?.href).toBe('http://127.0.0.1:5004/');
    expect(jiraWebhookUpstream(routesOf(SUPERGRAPH.replace(/ {2}EXPORT.*\n/, '')))).toBeUndefined();
  });
});

/** The export service's webhook route: records what reached it, byte for byte. */
async function startUpstream() {
  const received: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const refused = req.headers['x-hub-signature'] === 'sha256=forged';
      res.writeHead(refused ? 401 : 200, { 'content-type': 'application/json' });
      res.end(refused ? '{"errors":[{"message":"Invalid webhook signature","extensions":{"code":"UNAUTHENTICATED"}}]}' : '{"received":true,"duplicate":false}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

/** The gateway's JIRA webhook route alone, with the export service routed to `exportUrl` (or not at all). */
async function startProxy(exportUrl: string | undefined): Promise<{ app: INestApplication; baseUrl: string }> {
  const config = loadConfig(gatewayConfigSchema, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json',
    SUBGRAPHS: exportUrl ? `export=${exportUrl}/graphql` : 'auth=http://127.0.0.1:9/graphql',
  });
  const routes = routesOf(exportUrl ? SUPERGRAPH : SUPERGRAPH.replace(/ {2}EXPORT.*\n/, ''), config.SUBGRAPHS);
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot({ service: 'gateway-spec', logLevel: 'silent' })],
    controllers: [JiraWebhooksProxyController],
    providers: [{ provide: SupergraphRoutes, useValue: routes }],
  }).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false });
  configureServiceApp(app, { bodyLimit: '100kb' });
  await app.listen(0, '127.0.0.1');
  return { app, baseUrl: `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}` };
}

describe('JiraWebhooksProxyController', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let app: INestApplication;
  let baseUrl: string;
  const others: INestApplication[] = [];

  beforeAll(async () => {
    upstream = await startUpstream();
    ({ app, baseUrl } = await startProxy(upstream.url));
  });

  afterAll(async () => {
    await Promise.all([app, ...others].map((started) => started?.close()));
    await new Promise((resolve) => upstream?.server.close(resolve));
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(10_000) });

  it('relays the raw body byte for byte with the JIRA headers, and the answer back', async () => {
    // Spacing and key order a re-serialised body would lose, which would break the signature.
    const body = '{"webhookEvent" : "jira:issue_updated",\n  "issue":{"key":"MP-1", "fields":{}} , "n": 1.50}';

    const response = await post('/webhooks/jira/6f1c0c7e-4b7a-4a57-9a52-2f3c1d1e8a10', body, {
      'x-hub-signature': 'sha256=abc123',
      'x-atlassian-webhook-identifier': 'delivery-1',
      'x-atlassian-webhook-retry': '2',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-request-id': 'jira-proxy-1',
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, duplicate: false });
    const [seen] = upstream.received.slice(-1);
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/webhooks/jira/6f1c0c7e-4b7a-4a57-9a52-2f3c1d1e8a10');
    expect(seen.body.toString('utf8')).toBe(body);
    expect(seen.headers).toMatchObject({
      'content-type': 'application/json',
      'x-hub-signature': 'sha256=abc123',
      'x-atlassian-webhook-identifier': 'delivery-1',
      'x-atlassian-webhook-retry': '2',
      'user-agent': 'Atlassian Webhook HTTP Client',
      'x-request-id': 'jira-proxy-1',
      'content-length': String(Buffer.byteLength(body)),
    });
  });

  it("never passes on other headers (credentials, tenant) and relays the service's refusals unchanged", async () => {
    const response = await post('/webhooks/jira/x', '{}', { 'x-hub-signature': 'sha256=forged', authorization: 'Bearer t', cookie: 'a=1', 'x-tenant-id': 'tenant-1' });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ errors: [{ message: 'Invalid webhook signature', extensions: { code: 'UNAUTHENTICATED' } }] });
    for (const header of ['authorization', 'cookie', 'x-tenant-id']) expect(upstream.received.at(-1)?.headers).not.toHaveProperty(header);
  });

  it('answers other methods with 405, a down service with 502 and an unrouted one with 404, as typed JSON', async () => {
    const requests = upstream.received.length;

    const get = await fetch(`${baseUrl}/webhooks/jira/x`, { headers: { 'x-request-id': 'jira-proxy-2' } });
    expect(get.status).toBe(405);
    expect(await get.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'METHOD_NOT_ALLOWED', requestId: 'jira-proxy-2' } }] });

    const down = await startProxy(`http://127.0.0.1:${await freePort()}`);
    others.push(down.app);
    const unrouted = await startProxy(undefined);
    others.push(unrouted.app);

    const unavailable = await fetch(`${down.baseUrl}/webhooks/jira/x`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(unavailable.status).toBe(502);
    expect(await unavailable.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_GATEWAY', requestId: expect.any(String) } }] });
    const notRouted = await fetch(`${unrouted.baseUrl}/webhooks/jira/x`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(notRouted.status).toBe(404);
    expect(await notRouted.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    expect(upstream.received).toHaveLength(requests);
  });
});
