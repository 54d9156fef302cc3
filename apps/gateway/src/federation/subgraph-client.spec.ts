import { GraphQLError } from 'graphql';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParserErrorResponse, formatError } from '@multipult/graphql';
import { SubgraphClient, SubgraphDataSource } from './subgraph-client';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const answers: Record<string, Handler> = {
  '/graphql-413': (_req, res) => {
    res.writeHead(413, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ errors: [{ message: 'Request body exceeds the limit of 100kb', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }));
  },
  '/plain-413': (_req, res) => {
    res.writeHead(413, { 'content-type': 'text/html' });
    res.end('<html>413 Request Entity Too Large (nginx/1.27 at 10.0.3.7)</html>');
  },
  '/html-500': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<pre>Error: boom\n    at handler (/app/dist/main.js:10:5)</pre>');
  },
  '/json-502': (_req, res) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"message":"upstream connect error at 10.0.3.7"}');
  },
  '/forbidden-403': (_req, res) => {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('denied by proxy policy 17');
  },
  '/not-json-200': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"data": truncated');
  },
  '/reset': (req) => req.socket.destroy(),
  '/silent': () => undefined,
};

/** As a subgraph's body parser refuses a body over its limit: by its Content-Length, before reading it. */
const refuseUnread: Handler = (req, res) => {
  const { status, body } = bodyParserErrorResponse('too-large', '100kb');
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

describe('SubgraphDataSource', () => {
  const client = new SubgraphClient();
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/unread-413') return refuseUnread(req, res);
      req.resume();
      req.on('end', () => answers[req.url ?? '']?.(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  /** What the client sees of one call: the formatted errors (thrown or answered). */
  async function clientSees(url: string, variables?: Record<string, unknown>): Promise<unknown> {
    const source = new SubgraphDataSource('auth', url, client);
    try {
      const response = await source.process({ request: { query: '{ me { id } }', variables }, context: { forwardedHeaders: {} } } as never);
      return response.errors?.map((error) => formatError(error, new GraphQLError(error.message, { extensions: error.extensions })));
    } catch (error) {
      return [formatError((error as GraphQLError).toJSON(), error)];
    }
  }

  it('relays a typed refusal the subgraph answered as GraphQL, whatever its status', async () => {
    expect(await clientSees(`${base}/graphql-413`)).toEqual([
      { message: 'Request body exceeds the limit of 100kb', extensions: { code: 'PAYLOAD_TOO_LARGE' } },
    ]);
  });

  it('relays the refusal of a subgraph that stops reading a body over its limit', async () => {
    expect(await clientSees(`${base}/unread-413`, { password: 'x'.repeat(4_000_000) })).toEqual([
      { message: 'Request body exceeds the limit of 100kb', extensions: { code: 'PAYLOAD_TOO_LARGE' } },
    ]);
  });

  it.each([
    ['a 413 that is not GraphQL', '/plain-413', 'PAYLOAD_TOO_LARGE', 'The request is too large for the service that answers it'],
    ['a 500 with an HTML stack', '/html-500', 'SERVICE_UNAVAILABLE', 'A service this request needs is unavailable; try again later'],
    ['a 502 whose JSON is not GraphQL', '/json-502', 'SERVICE_UNAVAILABLE', 'A service this request needs is unavailable; try again later'],
    ['a 403 of something in between', '/forbidden-403', 'SERVICE_UNAVAILABLE', 'A service this request needs is unavailable; try again later'],
    ['a 200 that is not JSON', '/not-json-200', 'SERVICE_UNAVAILABLE', 'A service this request needs is unavailable; try again later'],
    ['a reset connection', '/reset', 'SERVICE_UNAVAILABLE', 'A service this request needs is unavailable; try again later'],
  ])('types %s, and nothing of the upstream answer reaches the client', async (_case, path, code, message) => {
    const seen = await clientSees(`${base}${path}`);
    expect(seen).toEqual([{ message, extensions: { code } }]);
    expect(JSON.stringify(seen)).not.toMatch(/10\.0\.3\.7|main\.js|nginx|proxy|truncated/);
  });

  it('gives up on a subgraph that does not answer within the timeout', async () => {
    const impatient = new SubgraphClient(300);
    const started = Date.now();
    try {
      await expect(new SubgraphDataSource('auth', `${base}/silent`, impatient).process({ request: { query: '{ me { id } }' }, context: { forwardedHeaders: {} } } as never)).rejects.toMatchObject({
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await impatient.close();
    }
  });

  it('types a refused connection as SERVICE_UNAVAILABLE', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect(await clientSees(`http://127.0.0.1:${port}/graphql`)).toEqual([
      { message: 'A service this request needs is unavailable; try again later', extensions: { code: 'SERVICE_UNAVAILABLE' } },
    ]);
  });
});
