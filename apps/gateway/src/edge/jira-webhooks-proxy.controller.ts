import { All, Controller, Logger, Req, Res } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import type { Request, Response } from 'express';
import http, { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { ErrorCode } from '@multipult/graphql';
import { RequestContext, acceptRequestId, counter } from '@multipult/observability';
import { SupergraphRoutes } from '../realtime/supergraph-routes';

/** The service that owns JIRA connections and verifies their webhooks. */
export const JIRA_WEBHOOKS_SERVICE = 'export';

/**
 * What JIRA sends that the service needs (the signature, the delivery id for deduplication, the
 * body's type) and tracing; nothing else of the caller's travels on.
 */
const FORWARDED_REQUEST_HEADERS = [
  'content-type',
  'user-agent',
  'x-hub-signature',
  'x-atlassian-webhook-identifier',
  'x-atlassian-webhook-retry',
  'x-atlassian-webhook-flow',
  'traceparent',
  'tracestate',
] as const;

const HOP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

const UPSTREAM_TIMEOUT_MS = 30_000;

const webhookRelays = () =>
  counter({ name: 'gateway_jira_webhooks_total', help: 'JIRA webhooks relayed to the export service by outcome', labelNames: ['outcome'] as const });

/** Where the export service's HTTP routes are: the origin and base path of its GraphQL URL in the routing table. */
export function jiraWebhookUpstream(routes: SupergraphRoutes): URL | undefined {
  const url = routes.subgraph(JIRA_WEBHOOKS_SERVICE)?.url;
  return url ? new URL(url.replace(/\/graphql\/?$/, '')) : undefined;
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code, requestId: RequestContext.current()?.requestId } }] };
}

/**
 * `/webhooks/jira/<connectionId>` belongs to the export service: the gateway relays JIRA's POST
 * with the body byte for byte (the signature covers the raw bytes) and the JIRA headers unchanged,
 * and passes the answer back. The signature is the credential; no access token is asked for.
 */
@Controller('webhooks/jira')
export class JiraWebhooksProxyController {
  private readonly logger = new Logger(JiraWebhooksProxyController.name);
  private readonly outcomes = webhookRelays();

  constructor(private readonly routes: SupergraphRoutes) {}

  @All('*path')
  proxy(@Req() req: RawBodyRequest<Request>, @Res() res: Response): void {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      res.status(405).json(errorBody('JIRA webhooks are POSTed', 'METHOD_NOT_ALLOWED'));
      return;
    }
    const base = jiraWebhookUpstream(this.routes);
    if (!base) {
      this.outcomes.inc({ outcome: '404' });
      res.status(404).json(errorBody('No service receives JIRA webhooks', ErrorCode.NOT_FOUND));
      return;
    }
    this.relay(new URL(`${base.pathname.replace(/\/$/, '')}${req.originalUrl}`, base), req, res);
  }

  private relay(target: URL, req: RawBodyRequest<Request>, res: Response): void {
    const headers: Record<string, string | string[]> = { host: target.host };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const forwardedFor = req.headers['x-forwarded-for'];
    const peer = req.socket.remoteAddress ?? 'unknown';
    Object.assign(headers, {
      'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${peer}` : peer,
      'x-forwarded-proto': req.protocol,
      'x-request-id': RequestContext.current()?.requestId ?? acceptRequestId(req.headers['x-request-id']),
    });
    // A JSON body was read by the body parser, which kept its bytes; any other body is still unread.
    const body = req.rawBody;
    if (body) headers['content-length'] = String(body.length);
    else if (req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
    const upstream = (target.protocol === 'https:' ? https : http).request(target, { method: 'POST', headers });
    upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () => upstream.destroy(new Error(`no answer within ${UPSTREAM_TIMEOUT_MS} ms`)));
    upstream.on('response', (response: IncomingMessage) => {
      res.writeHead(response.statusCode ?? 502, this.responseHeaders(response.headers));
      this.outcomes.inc({ outcome: String(response.statusCode) });
      pipeline(response, res).catch(() => res.destroy());
    });
    upstream.on('error', (error: Error) => {
      if (res.headersSent) return void res.destroy();
      this.outcomes.inc({ outcome: '502' });
      this.logger.warn({ err: error }, `JIRA webhook upstream ${target.host} unavailable`);
      res.status(502).json(errorBody('The service receiving JIRA webhooks is unavailable; JIRA will retry', 'BAD_GATEWAY'));
    });
    if (body) upstream.end(body);
    else pipeline(req, upstream).catch((error: Error) => upstream.destroy(error));
  }

  private responseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstream)) {
      if (value !== undefined && !HOP_RESPONSE_HEADERS.has(name)) headers[name] = value;
    }
    return headers;
  }
}
