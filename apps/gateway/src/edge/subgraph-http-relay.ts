import type { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import http, { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { RequestContext, acceptRequestId } from '@multipult/observability';
import { SupergraphRoutes } from '../realtime/supergraph-routes';

/** Headers of this hop (RFC 9110 §7.6.1) that Node sets itself on the way back. */
const HOP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

/** No answer (headers) or no bytes for this long while streaming: the service is taken as down. */
const UPSTREAM_IDLE_TIMEOUT_MS = 30_000;

/**
 * Where a subgraph's plain HTTP routes are: the origin and base path of its GraphQL URL in the
 * routing table the gateway refreshes on every supergraph load (so a reloaded supergraph moves
 * them too).
 */
export function subgraphHttpBase(routes: SupergraphRoutes, service: string): URL | undefined {
  const url = routes.subgraph(service)?.url;
  return url ? new URL(url.replace(/\/graphql\/?$/, '')) : undefined;
}

/** The GraphQL-shaped error body the gateway's HTTP routes answer with. */
export function edgeErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code, requestId: RequestContext.current()?.requestId } }] };
}

export interface RelayOptions {
  /** The subgraph's base (subgraphHttpBase); the request's path and query are appended. */
  base: URL;
  /** Request headers that travel on (everything else of the caller's stays at the edge). */
  forwardedHeaders: readonly string[];
  /** Bytes already read from the request (a parsed JSON body's raw bytes); otherwise the request body streams on. */
  body?: Buffer;
  /** Told the status answered (502 when the service could not be reached), for metrics. */
  outcome(status: number): void;
  logger: Logger;
  /** Says what was not reached, for the log and the client's 502. */
  unavailable: { log: string; message: string };
}

/**
 * Relays one request to a subgraph and streams the answer back as it arrives, never buffering it:
 * forwarded headers plus this hop's X-Forwarded-For/-Proto and the request id; a client that leaves
 * stops the upstream request.
 */
export function relayToSubgraph(req: Request, res: Response, options: RelayOptions): void {
  const target = new URL(`${options.base.pathname.replace(/\/$/, '')}${req.originalUrl}`, options.base);
  const headers: Record<string, string | string[]> = { host: target.host };
  for (const name of options.forwardedHeaders) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const forwardedFor = req.headers['x-forwarded-for'];
  const peer = req.socket.remoteAddress ?? 'unknown';
  Object.assign(headers, {
    // The chain so far plus this hop's peer; the service resolves the client with its own trust list.
    'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${peer}` : peer,
    'x-forwarded-proto': req.protocol,
    'x-request-id': RequestContext.current()?.requestId ?? acceptRequestId(req.headers['x-request-id']),
  });
  if (options.body) headers['content-length'] = String(options.body.length);
  else if (req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
  const upstream = (target.protocol === 'https:' ? https : http).request(target, { method: req.method, headers });
  upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => upstream.destroy(new Error(`no answer within ${UPSTREAM_IDLE_TIMEOUT_MS} ms`)));
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on('response', (response: IncomingMessage) => {
    res.writeHead(response.statusCode ?? 502, responseHeaders(response.headers));
    options.outcome(response.statusCode ?? 502);
    pipeline(response, res).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') options.logger.warn({ err: error }, `${options.unavailable.log}: answer cut off`);
      res.destroy();
    });
  });
  upstream.on('error', (error: Error) => {
    if (res.headersSent) return void res.destroy();
    if (res.destroyed) return;
    options.outcome(502);
    options.logger.warn({ err: error }, `${options.unavailable.log} at ${target.host} unavailable`);
    res.status(502).json(edgeErrorBody(options.unavailable.message, 'BAD_GATEWAY'));
  });
  if (options.body) upstream.end(options.body);
  else if (req.method === 'GET' || req.method === 'HEAD') upstream.end();
  else pipeline(req, upstream).catch((error: Error) => upstream.destroy(error));
}

function responseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !HOP_RESPONSE_HEADERS.has(name)) headers[name] = value;
  }
  return headers;
}
