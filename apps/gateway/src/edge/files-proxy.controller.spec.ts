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
import { FilesProxyController, fileUpstream } from './files-proxy.controller';

const SUPERGRAPH = `enum join__Graph {
  AUTH @join__graph(name: "auth", url: "http://auth.internal:4001/graphql")
  CONTENT @join__graph(name: "content", url: "https://content.internal/api/graphql")
  NOTIFICATIONS @join__graph(name: "notifications", url: "")
  BILLING @join__graph(name: "billing", url: "http://billing.internal:4009/graphql")
}`;

/** The gateway's routing table after loading a supergraph, with SUBGRAPHS as overrides. */
function routesOf(supergraph: string, subgraphs: { name: string; url: string }[] = []): SupergraphRoutes {
  const routes = new SupergraphRoutes(new Map(subgraphs.map(({ name, url }) => [name, url])));
  routes.update(supergraph);
  return routes;
}

describe('fileUpstream', () => {
  it('serves the registry services at the origin and base path of their GraphQL URLs in the supergraph', () => {
    const routes = routesOf(SUPERGRAPH);

    expect(fileUpstream(routes, 'auth')?.href).toBe('http://auth.internal:4001/');
    expect(fileUpstream(routes, 'content')?.href).toBe('https://content.internal/api');
    // Not in the registry: a composed graph alone does not open a download route.
    expect(fileUpstream(routes, 'billing')).toBeUndefined();
  });

  it('takes SUBGRAPHS over the URLs recorded in the supergraph, as GraphQL routing does', () => {
    const routes = routesOf(SUPERGRAPH, [{ name: 'auth', url: 'http://127.0.0.1:5001/graphql' }]);

    expect(fileUpstream(routes, 'auth')?.href).toBe('http://127.0.0.1:5001/');
    expect(fileUpstream(routes, 'content')?.href).toBe('https://content.internal/api');
    expect(fileUpstream(routesOf(SUPERGRAPH, [{ name: 'notifications', url: 'http://n:4003/graphql' }]), 'notifications')?.host).toBe('n:4003');
  });
});

/** A service's file route: records what reached it and streams a body in pieces. */
async function startUpstream() {
  const seen: http.IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  let endlessClosed: () => void = () => undefined;
  const endlessEnded = new Promise<void>((resolve) => (endlessClosed = resolve));
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    paths.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/files/auth/endless/')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('more\n'), 5);
      res.on('close', () => {
        clearInterval(timer);
        endlessClosed();
      });
      return;
    }
    if (req.url?.startsWith('/files/auth/gone/')) {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end('{"errors":[{"message":"expired","extensions":{"code":"LINK_EXPIRED"}}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename=a.csv', 'cache-control': 'no-store' });
    let sent = 0;
    const more = () => {
      sent += 1;
      if (sent > 3) return res.end();
      res.write(`row ${sent}\n`);
      setImmediate(more);
    };
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, paths, endlessEnded, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` };
}

describe('FilesProxyController', () => {
  let app: INestApplication;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let baseUrl: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const config = loadConfig(gatewayConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json',
      SUBGRAPHS: `auth=${upstream.url}/graphql,content=http://127.0.0.1:${await freePort()}/graphql`,
    });
    const routes = routesOf(SUPERGRAPH, config.SUBGRAPHS);
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot({ service: 'gateway-spec', logLevel: 'silent' })],
      controllers: [FilesProxyController],
      providers: [{ provide: SupergraphRoutes, useValue: routes }],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false });
    configureServiceApp(app, { bodyLimit: '1kb' });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => upstream?.server.close(resolve));
  });

  const get = (pathAndQuery: string, init?: RequestInit) => fetch(`${baseUrl}${pathAndQuery}`, { ...init, signal: AbortSignal.timeout(10_000) });

  it('relays the path and query to the service and streams its answer back with its headers', async () => {
    const response = await get('/files/auth/audit-log/a.csv?token=abc.def.ghi', {
      headers: { 'x-request-id': 'proxy-spec-1', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', accept: 'text/csv' },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename=a.csv');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toBe('row 1\nrow 2\nrow 3\n');
    expect(upstream.paths.at(-1)).toBe('GET /files/auth/audit-log/a.csv?token=abc.def.ghi');
    expect(upstream.seen.at(-1)).toMatchObject({
      'x-request-id': 'proxy-spec-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      accept: 'text/csv',
      'x-forwarded-for': expect.stringMatching(/127\.0\.0\.1/),
    });
  });

  it("never passes on the caller's credentials or tenant", async () => {
    await get('/files/auth/audit-log/a.csv?token=t', {
      headers: { authorization: 'Bearer caller-token', cookie: 'session=1', 'x-api-key': 'mp_key', 'x-tenant-id': 'tenant-1' },
    });

    expect(upstream.seen.at(-1)).toHaveProperty('x-request-id');
    for (const header of ['authorization', 'cookie', 'x-api-key', 'x-tenant-id']) expect(upstream.seen.at(-1)).not.toHaveProperty(header);
  });

  it("passes the service's refusals through unchanged and answers HEAD", async () => {
    const refused = await get('/files/auth/gone/a.csv?token=t');
    expect(refused.status).toBe(410);
    expect(await refused.json()).toEqual({ errors: [{ message: 'expired', extensions: { code: 'LINK_EXPIRED' } }] });

    const head = await get('/files/auth/audit-log/a.csv?token=t', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(upstream.paths.at(-1)).toBe('HEAD /files/auth/audit-log/a.csv?token=t');
  });

  it('stops reading from the service when the client goes away', async () => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/files/auth/endless/a.txt?token=t`, { signal: controller.signal });
    await response.body?.getReader().read();

    controller.abort();

    let timer: NodeJS.Timeout | undefined;
    const stillOpen = new Promise((resolve) => (timer = setTimeout(resolve, 5_000, 'still streaming')));
    try {
      await expect(Promise.race([upstream.endlessEnded.then(() => 'closed'), stillOpen])).resolves.toBe('closed');
    } finally {
      clearTimeout(timer);
    }
  });

  it.each([
    ['a service outside the registry', '/files/billing/x/a.csv?token=t', 'GET', 404, 'NOT_FOUND'],
    ['a method other than GET and HEAD', '/files/auth/audit-log/a.csv?token=t', 'DELETE', 405, 'METHOD_NOT_ALLOWED'],
    ['a registry service that is down', '/files/content/x/a.csv?token=t', 'GET', 502, 'BAD_GATEWAY'],
  ])('answers %s with typed JSON', async (_case, pathAndQuery, method, status, code) => {
    const requests = upstream.paths.length;

    const response = await get(pathAndQuery, { method, headers: { 'x-request-id': 'proxy-spec-2' } });

    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code, requestId: 'proxy-spec-2' } }] });
    expect(upstream.paths).toHaveLength(requests);
  });
});
