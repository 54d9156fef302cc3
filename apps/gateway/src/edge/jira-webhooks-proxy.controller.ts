import { All, Controller, Logger, Req, Res } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ErrorCode } from '@multipult/graphql';
import { counter } from '@multipult/observability';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { edgeErrorBody, relayToSubgraph, subgraphHttpBase } from './subgraph-http-relay';

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

const webhookRelays = () =>
  counter({ name: 'gateway_jira_webhooks_total', help: 'JIRA webhooks relayed to the export service by outcome', labelNames: ['outcome'] as const });

/** Where the export service's HTTP routes are: the origin and base path of its GraphQL URL in the routing table. */
export function jiraWebhookUpstream(routes: SupergraphRoutes): URL | undefined {
  return subgraphHttpBase(routes, JIRA_WEBHOOKS_SERVICE);
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
      res.status(405).json(edgeErrorBody('JIRA webhooks are POSTed', 'METHOD_NOT_ALLOWED'));
      return;
    }
    const base = jiraWebhookUpstream(this.routes);
    if (!base) {
      this.outcomes.inc({ outcome: '404' });
      res.status(404).json(edgeErrorBody('No service receives JIRA webhooks', ErrorCode.NOT_FOUND));
      return;
    }
    // A JSON body was read by the body parser, which kept its bytes (the signature covers them).
    relayToSubgraph(req, res, {
      base,
      forwardedHeaders: FORWARDED_REQUEST_HEADERS,
      body: req.rawBody,
      outcome: (status) => this.outcomes.inc({ outcome: String(status) }),
      logger: this.logger,
      unavailable: { log: 'JIRA webhook receiver', message: 'The service receiving JIRA webhooks is unavailable; JIRA will retry' },
    });
  }
}
