import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'undici';
import { API_KEY_HEADER, TENANT_HEADER } from '@multipult/auth';
import { AppError, ErrorCode } from '@multipult/graphql';
import { REQUEST_ID_HEADER, RequestContext, activeTraceparent, childTraceparent } from '@multipult/observability';

/** What the gateway forwards of a client's request to every subgraph call it makes for it. */
export interface GatewayContext {
  forwardedHeaders: Record<string, string>;
}

/** Headers a subgraph needs from the client's request (each subgraph verifies the credentials again); everything else stays at the edge. */
const FORWARDED_HEADERS = ['authorization', API_KEY_HEADER, TENANT_HEADER, 'accept-language', 'user-agent'] as const;

export function gatewayContextOf(headers: IncomingHttpHeaders, clientIp: string | undefined): GatewayContext {
  const forwardedHeaders: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') forwardedHeaders[name] = value;
  }
  if (clientIp) forwardedHeaders['x-forwarded-for'] = clientIp;
  return { forwardedHeaders };
}

/** A subgraph could not be reached, did not answer in time, or answered with something that is not GraphQL. */
export class SubgraphUnavailableError extends AppError {
  constructor() {
    super(ErrorCode.SERVICE_UNAVAILABLE, 'errors.service_unavailable');
  }
}

/** A subgraph refused the request as larger than its body limit (the gateway's own limit let it through). */
export class SubgraphPayloadTooLargeError extends AppError {
  constructor() {
    super(ErrorCode.PAYLOAD_TOO_LARGE, 'errors.payload_too_large_for_service');
  }
}

const logger = new Logger('SubgraphClient');

export interface SubgraphResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

/**
 * Keep-alive connection pools to the subgraphs (undici), shared by every call the gateway makes.
 * Idle connections close after 60 s, before the subgraphs' own 65 s keep-alive ends (see
 * listenService), so a request never goes out on a socket the subgraph is closing. A subgraph
 * that sends nothing for `timeoutMs` (no headers yet, or a stalled body) is given up on.
 */
export class SubgraphClient {
  private readonly agent: Agent;
  private readonly targets = new Map<string, { origin: string; path: string }>();

  constructor(timeoutMs = 30_000) {
    this.agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, connections: 128, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  /**
   * POSTs a GraphQL request with the client's forwarded headers, the request id and a child trace
   * context; a subgraph that cannot be reached (refused, reset, timed out) is SubgraphUnavailableError.
   * Through the agent's dispatch rather than undici's `request`: the answer is read into one string
   * anyway, and the stream `request` builds around it costs more than the call itself.
   */
  post(url: string, body: string, context: GatewayContext | undefined): Promise<SubgraphResponse> {
    const requestContext = RequestContext.current();
    const headers: Record<string, string> = { ...context?.forwardedHeaders, 'content-type': 'application/json', accept: 'application/json' };
    if (requestContext) {
      headers[REQUEST_ID_HEADER] = requestContext.requestId;
      // With tracing on, the undici instrumentation injects its client span's traceparent itself.
      if (!activeTraceparent()) headers.traceparent = childTraceparent(requestContext.traceparent);
    }
    const { origin, path } = this.targetOf(url);
    return new Promise((resolve, reject) => {
      let status = 0;
      let contentType: string | undefined;
      const chunks: Buffer[] = [];
      const unreachable = (error: unknown) => {
        logger.warn({ err: error, url }, 'subgraph unreachable');
        reject(new SubgraphUnavailableError());
      };
      try {
        this.agent.dispatch(
          { origin, path, method: 'POST', headers, body },
          {
            onRequestStart: () => undefined,
            onResponseStart: (_controller, statusCode, responseHeaders) => {
              status = statusCode;
              const type = responseHeaders['content-type'];
              contentType = typeof type === 'string' ? type : undefined;
            },
            onResponseData: (_controller, chunk) => {
              chunks.push(chunk);
            },
            onResponseEnd: () => resolve({ status, contentType, body: Buffer.concat(chunks).toString('utf8') }),
            onResponseError: (_controller, error) => unreachable(error),
          },
        );
      } catch (error) {
        unreachable(error);
      }
    });
  }

  /** A subgraph URL as dispatch takes it, parsed once per URL. */
  private targetOf(url: string): { origin: string; path: string } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      this.targets.set(url, target);
    }
    return target;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * A subgraph's answer as a GraphQL response. Subgraphs answer their refusals (invalid variables,
 * a body over their limit, their own rate limits) as GraphQL-shaped JSON with an HTTP error
 * status, and those typed errors reach the client as they are. Anything else is typed here, its
 * status and body only logged: a 413 is PAYLOAD_TOO_LARGE, the rest (other statuses, bodies that
 * are not GraphQL) SERVICE_UNAVAILABLE.
 */
export function graphqlResponseOf(subgraph: string, response: SubgraphResponse): GatewayGraphQLResponse {
  if (response.contentType?.startsWith('application/json') || response.contentType?.startsWith('application/graphql-response+json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === 'object' && ('data' in parsed || 'errors' in parsed)) return parsed as GatewayGraphQLResponse;
  }
  logger.warn({ subgraph, status: response.status, body: response.body.slice(0, 500) }, 'subgraph answered without a GraphQL response');
  throw response.status === 413 ? new SubgraphPayloadTooLargeError() : new SubgraphUnavailableError();
}

/** Apollo's data source for one subgraph, over the shared pools. */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    readonly name: string,
    readonly url: string,
    private readonly client: SubgraphClient,
  ) {}

  async process({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    return graphqlResponseOf(this.name, await this.client.post(this.url, body, context as GatewayContext | undefined));
  }
}
