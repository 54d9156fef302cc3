import { All, Controller, Logger, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import http, { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { ErrorCode } from '@multipult/graphql';
import { RequestContext, acceptRequestId, counter } from '@multipult/observability';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { SupergraphRoutes } from '../realtime/supergraph-routes';

/**
 * What travels to the service: content negotiation and tracing only. Never Authorization, cookies,
 * API keys or the tenant header: the signed link is the credential, and the caller's token must not
 * reach a download route.
 */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'user-agent', 'traceparent', 'tracestate'] as const;

/** Headers of this hop (RFC 9110 §7.6.1) that Node sets itself on the way back. */
const HOP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

/** No answer (headers) or no bytes for this long while streaming: the service is taken as down. */
const UPSTREAM_IDLE_TIMEOUT_MS = 30_000;

const fileDownloads = () =>
  counter({ name: 'gateway_file_downloads_total', help: 'Requests on /files by service and outcome', labelNames: ['service', 'outcome'] as const });

const REGISTERED_SERVICES = new Set(SERVICE_REGISTRY.services.map((service) => service.name));

/**
 * Where a registry service's file routes are: the origin (and base path) of its GraphQL URL in the
 * loaded supergraph, overridden by SUBGRAPHS, as the gateway routes GraphQL (so a reloaded
 * supergraph moves downloads too). A graph outside the registry opens no download route.
 */
export function fileUpstream(routes: SupergraphRoutes, service: string): URL | undefined {
  const url = REGISTERED_SERVICES.has(service) ? routes.subgraph(service)?.url : undefined;
  return url ? new URL(url.replace(/\/graphql\/?$/, '')) : undefined;
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code, requestId: RequestContext.current()?.requestId } }] };
}

/**
 * `/files/<service>/…` belongs to the service named: the gateway relays the request and streams
 * the answer back as it arrives (never buffering a file), so signed download links work through
 * the one public origin. Rate limited per client IP like /graphql; no access token is asked for.
 */
@Controller('files')
export class FilesProxyController {
  private readonly logger = new Logger(FilesProxyController.name);
  private readonly outcomes = fileDownloads();

  constructor(private readonly routes: SupergraphRoutes) {}

  @All(':service/*path')
  proxy(@Param('service') service: string, @Req() req: Request, @Res() res: Response): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      res.status(405).json(errorBody('Downloads are read with GET', 'METHOD_NOT_ALLOWED'));
      return;
    }
    const base = fileUpstream(this.routes, service);
    if (!base) {
      this.outcomes.inc({ service: 'unknown', outcome: '404' });
      res.status(404).json(errorBody('No such service', ErrorCode.NOT_FOUND));
      return;
    }
    this.relay(service, new URL(`${base.pathname.replace(/\/$/, '')}${req.originalUrl}`, base), req, res);
  }

  private relay(service: string, target: URL, req: Request, res: Response): void {
    const headers: Record<string, string | string[]> = { host: target.host };
    for (const name of FORWARDED_REQUEST_HEADERS) {
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
    const upstream = (target.protocol === 'https:' ? https : http).request(target, { method: req.method, headers });
    upstream.setTimeout(UPSTREAM_IDLE_TIMEOUT_MS, () => upstream.destroy(new Error(`no answer within ${UPSTREAM_IDLE_TIMEOUT_MS} ms`)));
    // The client left: stop reading (and the service stops producing).
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('response', (response: IncomingMessage) => {
      res.writeHead(response.statusCode ?? 502, this.responseHeaders(response.headers));
      this.outcomes.inc({ service, outcome: String(response.statusCode) });
      pipeline(response, res).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') this.logger.warn({ service, err: error }, 'file download cut off');
        res.destroy();
      });
    });
    upstream.on('error', (error: Error) => {
      if (res.headersSent) return void res.destroy();
      if (res.destroyed) return;
      this.outcomes.inc({ service, outcome: '502' });
      this.logger.warn({ service, err: error }, `file upstream ${target.host} unavailable`);
      res.status(502).json(errorBody('The service holding this file is unavailable; try again shortly', 'BAD_GATEWAY'));
    });
    upstream.end();
  }

  private responseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstream)) {
      if (value !== undefined && !HOP_RESPONSE_HEADERS.has(name)) headers[name] = value;
    }
    return headers;
  }
}
