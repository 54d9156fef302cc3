import { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { Request } from 'express';
import { API_KEY_HEADER, TENANT_HEADER } from '@multipult/auth';
import { REQUEST_ID_HEADER, RequestContext, activeTraceparent, childTraceparent } from '@multipult/observability';

export interface GatewayContext {
  req?: Request;
}

/** Headers a subgraph needs from the client's request; everything else stays at the edge. */
const FORWARDED_HEADERS = ['authorization', API_KEY_HEADER, TENANT_HEADER, 'accept-language', 'user-agent'] as const;

/**
 * Calls a subgraph on behalf of the client: forwards the caller's credentials (each subgraph
 * verifies them again), the request id, a child trace context and the client's IP.
 */
export class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    const incoming = 'req' in context ? context.req : undefined;
    for (const name of FORWARDED_HEADERS) {
      const value = incoming?.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const requestContext = RequestContext.current();
    if (requestContext) {
      headers.set(REQUEST_ID_HEADER, requestContext.requestId);
      // With tracing on, the http instrumentation injects the client span's traceparent itself.
      if (!activeTraceparent()) headers.set('traceparent', childTraceparent(requestContext.traceparent));
    }
    if (incoming?.ip) headers.set('x-forwarded-for', incoming.ip);
  }
}
