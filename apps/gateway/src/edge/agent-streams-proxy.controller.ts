import { Controller, Get, Logger, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { API_KEY_HEADER, TENANT_HEADER } from '@multipult/auth';
import { ErrorCode } from '@multipult/graphql';
import { counter } from '@multipult/observability';
import { SupergraphRoutes } from '../realtime/supergraph-routes';
import { edgeErrorBody, relayToSubgraph, subgraphHttpBase } from './subgraph-http-relay';

/** The service that owns agent runs and streams their events. */
export const AGENT_STREAMS_SERVICE = 'agents';

/** The caller's credentials and tenant (the service verifies them again), the resume point, and tracing. */
const FORWARDED_REQUEST_HEADERS = ['authorization', API_KEY_HEADER, TENANT_HEADER, 'last-event-id', 'accept', 'accept-language', 'user-agent', 'traceparent', 'tracestate'] as const;

const streamRelays = () => counter({ name: 'gateway_agent_streams_total', help: 'NDJSON run event streams relayed to the agents service by outcome', labelNames: ['outcome'] as const });

/**
 * `GET /agents/runs/<id>/events` belongs to the agents service: the run's events as NDJSON, live,
 * resumable from `last_event_id`. The gateway checks the token like on /graphql (edge middleware),
 * then relays the stream as it is written, never buffering it.
 */
@Controller('agents/runs')
export class AgentStreamsProxyController {
  private readonly logger = new Logger(AgentStreamsProxyController.name);
  private readonly outcomes = streamRelays();

  constructor(private readonly routes: SupergraphRoutes) {}

  @Get(':id/events')
  proxy(@Req() req: Request, @Res() res: Response): void {
    const base = subgraphHttpBase(this.routes, AGENT_STREAMS_SERVICE);
    if (!base) {
      this.outcomes.inc({ outcome: '404' });
      res.status(404).json(edgeErrorBody('No service streams agent runs', ErrorCode.NOT_FOUND));
      return;
    }
    relayToSubgraph(req, res, {
      base,
      forwardedHeaders: FORWARDED_REQUEST_HEADERS,
      outcome: (status) => this.outcomes.inc({ outcome: String(status) }),
      logger: this.logger,
      unavailable: { log: 'agent run stream', message: 'The agents service is unavailable; reconnect with Last-Event-ID to resume' },
    });
  }
}
