import { ApolloServer, HeaderMap, HTTPGraphQLResponse } from '@apollo/server';
import { Logger } from '@nestjs/common';
import bytes from 'bytes';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import proxyAddr from 'proxy-addr';
import {
  REQUEST_ID_HEADER,
  RequestContext,
  acceptRequestId,
  activeTraceparent,
  childTraceparent,
  counter,
  httpRequestDuration,
  parseAcceptLanguage,
} from '@multipult/observability';
import { formatError } from './format-error';
import { bodyParserErrorResponse } from './http-errors';
import type { GraphQLContext } from './subgraph-options';

/** The headers helmet sets on every response: they do not depend on the request, so they are taken once. */
export function helmetHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    removeHeader: () => undefined,
  };
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * A POST of JSON (UTF-8, not compressed) to `path` whose declared length is within the limit: the
 * requests a fast path reads itself. Anything else is Express's, which parses, inflates or refuses it.
 */
export function isJsonPostTo(req: IncomingMessage, path: string, bodyLimitBytes: number): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  if (url !== path && !url.startsWith(`${path}?`)) return false;
  const contentType = req.headers['content-type'];
  if (contentType !== 'application/json' && contentType?.toLowerCase().replace(/\s/g, '') !== 'application/json;charset=utf-8') return false;
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') return false;
  const length = Number(req.headers['content-length']);
  return Number.isInteger(length) && length <= bodyLimitBytes && !req.headers['transfer-encoding'];
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An error as GraphQL formats it, whatever was thrown. */
export function formattedErrorOf(error: unknown): GraphQLFormattedError {
  return error instanceof GraphQLError ? error.toJSON() : { message: error instanceof Error ? error.message : String(error) };
}

/** Logs a finished request as pino-http does on the Express path ("request completed", level by status). */
export function logRequestCompleted(req: IncomingMessage, status: number, seconds: number): void {
  const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  const root = PinoLogger.root;
  if (root?.isLevelEnabled(level)) {
    root[level]({ req: { method: req.method, url: req.url }, res: { statusCode: status }, responseTime: Math.round(seconds * 1000) }, 'request completed');
  }
}

export interface SubgraphFastPathOptions {
  path: string;
  /** BODY_LIMIT, in body-parser syntax: larger bodies go to Express, which refuses them. */
  bodyLimit: string;
  /** Express's compiled `trust proxy` setting, so the client IP is the one Express would see. */
  trustProxy: (address: string, hop: number) => boolean;
  /** The service's Apollo Server once it has started; undefined until then (requests go to Express). */
  apolloServer: () => ApolloServer | undefined;
  /** The GraphQL module's context function, which the Express integration calls too. */
  context: (args: GraphQLContext) => GraphQLContext | Promise<GraphQLContext>;
}

const fastPathRequests = () =>
  counter({
    name: 'graphql_fast_path_requests_total',
    help: 'GraphQL POSTs a subgraph answered without Express: executed, or refused as a malformed body',
    labelNames: ['outcome'] as const,
  });

/**
 * Serves a subgraph's GraphQL POSTs straight to Apollo Server, without Express or Nest middleware:
 * the same security headers (helmet's, taken once), request context, request id, latency metric,
 * body limit and malformed-body answer, and the same context for resolvers, guards and pipes as
 * the Express path, minus the router, the body parser, the per-request logger and an ETag nobody
 * reads on a POST. GETs, other routes and bodies it does not read itself go to Express untouched.
 */
export class SubgraphFastPath {
  private readonly logger = new Logger(SubgraphFastPath.name);
  private readonly bodyLimitBytes: number;
  private readonly securityHeaders = helmetHeaders().flat();
  private readonly httpDuration = httpRequestDuration();
  private readonly requests = fastPathRequests();

  constructor(private readonly options: SubgraphFastPathOptions) {
    this.bodyLimitBytes = bytes.parse(options.bodyLimit) ?? 0;
  }

  /** Serves the request, or hands it to `next` (Express) before reading anything. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const apolloServer = isJsonPostTo(req, this.options.path, this.bodyLimitBytes) ? this.options.apolloServer() : undefined;
    if (!apolloServer) return next();
    const startedAt = performance.now();
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    // With tracing on, the http instrumentation's server span is active while the request is emitted.
    const traceparent = activeTraceparent() ?? childTraceparent(headerValue(req.headers.traceparent));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const context = {
        requestId,
        traceparent,
        locales: parseAcceptLanguage(req.headers['accept-language']),
        clientIp: proxyAddr(req, this.options.trustProxy),
        userAgent: req.headers['user-agent'],
      };
      RequestContext.run(context, () => {
        this.serve(apolloServer, req, res, Buffer.concat(chunks), requestId, startedAt).catch((error: unknown) => {
          this.logger.error({ err: error }, 'GraphQL fast path failed');
          if (res.headersSent) return void res.destroy();
          this.respond(req, res, 500, `${JSON.stringify({ errors: [formatError(formattedErrorOf(error), error)] })}\n`, requestId, startedAt);
        });
      });
    });
  }

  private async serve(apolloServer: ApolloServer, req: IncomingMessage, res: ServerResponse, raw: Buffer, requestId: string, startedAt: number): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined;
    }
    // express.json is strict: only an object or an array is a JSON body.
    if (body === null || typeof body !== 'object') {
      this.requests.inc({ outcome: 'malformed_body' });
      const refusal = bodyParserErrorResponse('malformed', this.options.bodyLimit);
      return this.respond(req, res, refusal.status, JSON.stringify(refusal.body), requestId, startedAt);
    }
    this.requests.inc({ outcome: 'executed' });
    // Where Express's parser leaves them, for anything that reads the request.
    Object.assign(req, { body, rawBody: raw });
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const answer = await apolloServer.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: query === -1 ? '' : url.slice(query), body },
      context: async () => this.options.context({ req, res } as unknown as GraphQLContext),
    });
    if (answer.body.kind === 'complete') {
      return this.respond(req, res, answer.status ?? 200, answer.body.string, requestId, startedAt, answer.headers);
    }
    await this.stream(req, res, answer, requestId, startedAt);
  }

  /** Incremental delivery (@defer): the parts as Apollo Server yields them. */
  private async stream(req: IncomingMessage, res: ServerResponse, answer: HTTPGraphQLResponse, requestId: string, startedAt: number): Promise<void> {
    res.writeHead(answer.status ?? 200, this.headersOf(requestId, answer.headers));
    if (answer.body.kind === 'chunked') for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
    this.finished(req, answer.status ?? 200, startedAt);
  }

  private headersOf(requestId: string, headers?: HeaderMap): string[] {
    const raw = [...this.securityHeaders];
    for (const [name, value] of headers ?? []) raw.push(name, value);
    raw.push(REQUEST_ID_HEADER, requestId);
    return raw;
  }

  /** Writes the whole answer at once: the fixed headers, Apollo's, the request id and the body. */
  private respond(req: IncomingMessage, res: ServerResponse, status: number, body: string, requestId: string, startedAt: number, headers?: HeaderMap): void {
    const raw = this.headersOf(requestId, headers);
    if (!headers?.has('content-type')) raw.push('content-type', 'application/json; charset=utf-8');
    raw.push('content-length', String(Buffer.byteLength(body)));
    res.writeHead(status, raw);
    res.end(body);
    this.finished(req, status, startedAt);
  }

  private finished(req: IncomingMessage, status: number, startedAt: number): void {
    const seconds = (performance.now() - startedAt) / 1000;
    this.httpDuration.observe({ method: 'POST', route: this.options.path, status_code: String(status) }, seconds);
    logRequestCompleted(req, status, seconds);
  }
}
