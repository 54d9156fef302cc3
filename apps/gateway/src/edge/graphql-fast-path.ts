import { GraphQLDataSource, ServiceMap, executeQueryPlan } from '@apollo/gateway';
import { Logger } from '@nestjs/common';
import { GraphQLError, getVariableValues } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from 'proxy-addr';
import bytes from 'bytes';
import {
  OperationMetrics,
  bodyParserErrorResponse,
  formatError,
  formattedErrorOf,
  headerValue,
  isJsonPostTo,
  logRequestCompleted,
} from '@multipult/graphql';
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
import type { FederatedOperations, PassThrough, PlannedOperation, PlannedSupergraph } from '../federation/federated-operations';
import { GatewayContext, gatewayContextOf, graphqlResponseOf } from '../federation/subgraph-client';
import type { EdgeAdmission } from './edge-admission';

export interface GraphqlFastPathOptions {
  path: string;
  /** BODY_LIMIT, in body-parser syntax: larger bodies go to Express, which refuses them. */
  bodyLimit: string;
  /** Express's compiled `trust proxy` setting, so the client IP is the one Express would see. */
  trustProxy: (address: string, hop: number) => boolean;
  /** Headers every response carries (helmet's), computed once. */
  securityHeaders: [string, string][];
  /** The same CORS middleware Express runs. */
  cors: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  metrics: OperationMetrics;
}

interface GraphqlRequestBody {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

const fastPathRequests = () =>
  counter({
    name: 'gateway_graphql_fast_path_requests_total',
    help: 'GraphQL POSTs read by the fast path: served there, or handed to Apollo Server',
    labelNames: ['outcome'] as const,
  });

/**
 * Serves GraphQL POSTs without Nest, Express or Apollo Server: the body read once, the document
 * planned once (parse, validation, limits and the query plan, per supergraph), every edge check in
 * one round trip (EdgeAdmission), and a plan that one subgraph answers exactly as asked relayed
 * without parsing its answer. Everything else (GET, batches, uploads, persisted queries, invalid
 * or over-limit documents, introspection, bad variables) goes to the Express app untouched, where
 * Apollo Server answers it with its own errors; nothing is counted or called before that choice.
 */
export class GraphqlFastPath {
  private readonly logger = new Logger(GraphqlFastPath.name);
  private readonly bodyLimitBytes: number;
  /** Helmet's headers and the content type, as writeHead takes them (name, value, name, value…). */
  private readonly fixedHeaders: string[];
  private readonly httpDuration = httpRequestDuration();
  private readonly requests = fastPathRequests();

  constructor(
    private readonly operations: FederatedOperations,
    private readonly admission: EdgeAdmission,
    private readonly options: GraphqlFastPathOptions,
  ) {
    this.bodyLimitBytes = bytes.parse(options.bodyLimit) ?? 0;
    this.fixedHeaders = [...options.securityHeaders.flat(), 'Content-Type', JSON_CONTENT_TYPE];
  }

  /** Serves the request, or hands it to `next` (Express), with the body on `req.body` when it was read. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (!this.isCandidate(req)) return next();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const startedAt = performance.now();
      const clientIp = proxyAddr(req, this.options.trustProxy);
      RequestContext.run(
        {
          requestId: acceptRequestId(req.headers[REQUEST_ID_HEADER]),
          traceparent: activeTraceparent() ?? childTraceparent(headerValue(req.headers.traceparent)),
          locales: parseAcceptLanguage(req.headers['accept-language']),
          clientIp,
          userAgent: req.headers['user-agent'],
        },
        () => {
          this.serve(req, res, raw, clientIp, startedAt, next).catch((error: unknown) => {
            this.logger.error({ err: error }, 'GraphQL fast path failed');
            if (!res.headersSent) this.respond(req, res, 200, this.errorBody(error), startedAt);
            else res.destroy();
          });
        },
      );
    });
  }

  /** A JSON POST to the GraphQL path with a body within the limit, answered as application/json. */
  private isCandidate(req: IncomingMessage): boolean {
    if (!isJsonPostTo(req, this.options.path, this.bodyLimitBytes)) return false;
    const accept = req.headers.accept;
    return !accept || (!accept.includes('graphql-response') && (accept.includes('application/json') || accept.includes('*/*')));
  }

  private async serve(req: IncomingMessage, res: ServerResponse, raw: Buffer, clientIp: string, startedAt: number, next: () => void): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      const { status, body: errorBody } = bodyParserErrorResponse('malformed', this.options.bodyLimit);
      return this.respond(req, res, status, JSON.stringify(errorBody), startedAt);
    }
    const supergraph = this.operations.supergraph;
    const planned = isGraphqlRequestBody(body) && supergraph ? this.plannedFor(supergraph, body) : undefined;
    if (!planned) {
      // Express skips body parsing for a request already read; the body and its bytes are where its parser leaves them.
      Object.assign(req, { body, rawBody: raw });
      this.requests.inc({ outcome: 'handed_over' });
      return next();
    }
    const { query, variables } = body as GraphqlRequestBody;
    this.requests.inc({ outcome: 'served' });

    this.options.cors(req, res, () => undefined);
    const outcome = await this.admission.admit({ ip: clientIp, method: 'POST', headers: req.headers }, { refuseInvalidToken: true, countTenantUsage: true });
    if (!outcome.admitted) return this.respond(req, res, outcome.status, JSON.stringify(outcome.body), startedAt, outcome.headers);

    const stopTimer = this.options.metrics.startTimer();
    const context = gatewayContextOf(req.headers, clientIp);
    const answer = planned.passThrough
      ? await this.passThrough(supergraph as PlannedSupergraph, planned, planned.passThrough, query, variables ?? undefined, context)
      : await this.execute(supergraph as PlannedSupergraph, planned, query, variables ?? undefined, context);
    stopTimer(planned.operation.operation, planned.operationName, answer.failed);
    this.respond(req, res, 200, answer.body, startedAt, outcome.headers);
  }

  /** The planned operation when the fast path can serve this request as Apollo Server would. */
  private plannedFor(supergraph: PlannedSupergraph, body: GraphqlRequestBody): PlannedOperation | undefined {
    const planned = supergraph.planned(body.query, body.operationName ?? undefined);
    if (!planned) return undefined;
    const variables = body.variables ?? {};
    if (planned.operation.variableDefinitions?.length) {
      const coerced = getVariableValues(supergraph.schema, planned.operation.variableDefinitions, variables, { maxErrors: 1 });
      if (coerced.errors) return undefined;
    }
    return planned.withinCostLimit(variables) ? planned : undefined;
  }

  /**
   * One subgraph answers the whole operation: its answer is relayed as it is unless it has errors
   * to format. When the call fails, Apollo's executor answers the plan with that failure instead
   * (its nulls and its error, exactly as Apollo Server would), without calling the subgraph again.
   */
  private async passThrough(
    supergraph: PlannedSupergraph,
    planned: PlannedOperation,
    passThrough: PassThrough,
    query: string,
    variables: Record<string, unknown> | undefined,
    context: GatewayContext,
  ) {
    const subgraphVariables: Record<string, unknown> = {};
    for (const name of passThrough.variableNames) if (variables && name in variables) subgraphVariables[name] = variables[name];
    const request = JSON.stringify({ query: passThrough.query, operationName: passThrough.operationName, variables: subgraphVariables });
    let answered;
    try {
      const response = await this.operations.client.post(passThrough.subgraph.url, request, context);
      // Apollo Server writes `errors` first, so an answer that starts with its data has none.
      if (response.status === 200 && response.body.startsWith('{"data":')) return { body: response.body, failed: false };
      answered = graphqlResponseOf(passThrough.subgraph.name, response);
    } catch (error) {
      const failing: GraphQLDataSource = { process: () => Promise.reject(error) };
      return this.execute(supergraph, planned, query, variables, context, { ...supergraph.serviceMap, [passThrough.subgraph.name]: failing });
    }
    const downstream = (answered.errors ?? []).map(
      (error) =>
        new GraphQLError(error.message || `Error while fetching subquery from service "${passThrough.subgraph.name}"`, {
          path: error.path,
          extensions: { ...error.extensions, serviceName: passThrough.subgraph.name },
        }),
    );
    return { body: this.resultBody(answered.data, downstream), failed: downstream.length > 0 };
  }

  /**
   * Several fetches: our executor runs the plan over the shared subgraph pools, or Apollo's for
   * the plans ours does not take; both answer alike.
   */
  private async execute(
    supergraph: PlannedSupergraph,
    planned: PlannedOperation,
    query: string,
    variables: Record<string, unknown> | undefined,
    context: GatewayContext,
    serviceMap: ServiceMap = supergraph.serviceMap,
  ) {
    const requestContext = {
      request: { query, variables, operationName: planned.operationName },
      context,
      logger: this.logger,
      metrics: {},
      document: planned.document,
      operation: planned.operation,
      operationName: planned.operationName ?? null,
      source: query,
      schema: supergraph.schema,
    };
    const result = planned.executor
      ? await planned.executor.execute(serviceMap, context, variables, requestContext)
      : await executeQueryPlan(
          planned.plan,
          serviceMap,
          requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
          planned.operationContext,
          supergraph.supergraphSchema,
          supergraph.apiSchema,
        );
    const errors = result.errors ?? [];
    return { body: this.resultBody(result.data, errors, result.extensions), failed: errors.length > 0 };
  }

  /**
   * As Apollo Server writes results: errors first, then data, then the executor's extensions (the
   * nulls it put in non-null fields), a newline at the end (so relayed and executed answers look alike).
   */
  private resultBody(data: unknown, errors: readonly unknown[], extensions?: unknown): string {
    const formatted = errors.length ? errors.map((error) => formatError(formattedErrorOf(error), error)) : undefined;
    if (!formatted && !extensions) return `${JSON.stringify({ data })}\n`;
    return `${JSON.stringify({ errors: formatted, data, extensions })}\n`;
  }

  private errorBody(error: unknown): string {
    return `${JSON.stringify({ errors: [formatError(formattedErrorOf(error), error)] })}\n`;
  }

  /** Writes the whole answer at once: the fixed headers, the request's own, and the body. */
  private respond(req: IncomingMessage, res: ServerResponse, status: number, body: string, startedAt: number, headers: [string, string][] = []): void {
    const raw = [...this.fixedHeaders, 'Content-Length', String(Buffer.byteLength(body))];
    const requestId = RequestContext.current()?.requestId;
    if (requestId) raw.push(REQUEST_ID_HEADER, requestId);
    for (const [name, value] of headers) raw.push(name, value);
    res.writeHead(status, raw);
    res.end(body);
    const seconds = (performance.now() - startedAt) / 1000;
    this.httpDuration.observe({ method: 'POST', route: this.options.path, status_code: String(status) }, seconds);
    logRequestCompleted(req, status, seconds);
  }
}

function isGraphqlRequestBody(body: unknown): body is GraphqlRequestBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  return (
    typeof query === 'string' &&
    extensions === undefined &&
    (operationName === undefined || operationName === null || typeof operationName === 'string') &&
    (variables === undefined || variables === null || (typeof variables === 'object' && !Array.isArray(variables)))
  );
}
