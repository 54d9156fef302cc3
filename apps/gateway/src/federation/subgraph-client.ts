import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'undici';
import { API_KEY_HEADER, TENANT_HEADER } from '@multipult/auth';
import { ErrorCode } from '@multipult/graphql';
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

export interface SubgraphResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

/**
 * Keep-alive connection pools to the subgraphs (undici), shared by every call the gateway makes.
 * Idle connections close after 60 s, before the subgraphs' own 65 s keep-alive ends (see
 * listenService), so a request never goes out on a socket the subgraph is closing.
 */
export class SubgraphClient {
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, connections: 128 });

  /** POSTs a GraphQL request with the client's forwarded headers, the request id and a child trace context. */
  async post(url: string, body: string, context: GatewayContext | undefined): Promise<SubgraphResponse> {
    const requestContext = RequestContext.current();
    const headers: Record<string, string> = { ...context?.forwardedHeaders, 'content-type': 'application/json', accept: 'application/json' };
    if (requestContext) {
      headers[REQUEST_ID_HEADER] = requestContext.requestId;
      // With tracing on, the undici instrumentation injects its client span's traceparent itself.
      if (!activeTraceparent()) headers.traceparent = childTraceparent(requestContext.traceparent);
    }
    const response = await request(url, { method: 'POST', headers, body, dispatcher: this.agent });
    const contentType = response.headers['content-type'];
    return { status: response.statusCode, contentType: typeof contentType === 'string' ? contentType : undefined, body: await response.body.text() };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * A subgraph's answer as a GraphQL response. Subgraphs answer their refusals (invalid variables,
 * a body over their limit, their own rate limits) as GraphQL-shaped JSON with an HTTP error
 * status, and those typed errors reach the client as they are; anything else is the subgraph
 * failing, which the client sees as INTERNAL (and the logs in full).
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
  throw new GraphQLError(`subgraph ${subgraph} answered HTTP ${response.status} without a GraphQL response`, {
    extensions: { code: ErrorCode.INTERNAL, serviceName: subgraph, status: response.status, body: response.body.slice(0, 500) },
  });
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
