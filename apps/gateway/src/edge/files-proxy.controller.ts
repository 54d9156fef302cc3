import { All, Controller, Logger, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ErrorCode } from '@multipult/graphql';
import { counter } from '@multipult/observability';
import { SERVICE_REGISTRY } from '@multipult/registry';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { edgeErrorBody, relayToSubgraph, subgraphHttpBase } from './subgraph-http-relay';

/**
 * What travels to the service: content negotiation and tracing only. Never Authorization, cookies,
 * API keys or the tenant header: the signed link is the credential, and the caller's token must not
 * reach a download route.
 */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'user-agent', 'traceparent', 'tracestate'] as const;

const fileDownloads = () =>
  counter({ name: 'gateway_file_downloads_total', help: 'Requests on /files by service and outcome', labelNames: ['service', 'outcome'] as const });

const REGISTERED_SERVICES = new Set(SERVICE_REGISTRY.services.map((service) => service.name));

/**
 * Where a registry service's file routes are: the origin (and base path) of its GraphQL URL in the
 * loaded supergraph, overridden by SUBGRAPHS, as the gateway routes GraphQL (so a reloaded
 * supergraph moves downloads too). A graph outside the registry opens no download route.
 */
export function fileUpstream(routes: SupergraphRoutes, service: string): URL | undefined {
  return REGISTERED_SERVICES.has(service) ? subgraphHttpBase(routes, service) : undefined;
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
      res.status(405).json(edgeErrorBody('Downloads are read with GET', 'METHOD_NOT_ALLOWED'));
      return;
    }
    const base = fileUpstream(this.routes, service);
    if (!base) {
      this.outcomes.inc({ service: 'unknown', outcome: '404' });
      res.status(404).json(edgeErrorBody('No such service', ErrorCode.NOT_FOUND));
      return;
    }
    relayToSubgraph(req, res, {
      base,
      forwardedHeaders: FORWARDED_REQUEST_HEADERS,
      outcome: (status) => this.outcomes.inc({ service, outcome: String(status) }),
      logger: this.logger,
      unavailable: { log: `file service ${service}`, message: 'The service holding this file is unavailable; try again shortly' },
    });
  }
}
