import { ServiceMap } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import { computeResponse } from '@apollo/gateway/dist/resultShaping';
import { isObjectOfType } from '@apollo/gateway/dist/dataRewrites';
import { ERRORS, Operation, Schema, assert, errorCodeDef, operationFromDocument } from '@apollo/federation-internals';
import { FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode, ResponsePath, evaluateCondition, getResponseName } from '@apollo/query-planner';
import { GraphQLError, GraphQLFormattedError, GraphQLSchema, Kind, OperationDefinitionNode, FragmentDefinitionNode } from 'graphql';
import { CompiledResultShape, ShapeNotCovered } from './compiled-result-shape';
import type { GatewayContext } from './subgraph-client';

/** What one request's plan execution answers: the shaped data and the errors, as executeQueryPlan returns them. */
export interface PlanResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLError[];
  /** Nulls shaping put in non-null fields, when no fetch failed (executeQueryPlan's `valueCompletion`). */
  extensions?: { valueCompletion: GraphQLError[] };
}

type ResultObject = Record<string, unknown>;

interface Cursor {
  path: ResponsePath;
  data: unknown;
  fullResult: ResultObject;
}

interface Execution {
  serviceMap: ServiceMap;
  context: GatewayContext;
  variables: Record<string, unknown> | undefined;
  errors: GraphQLError[];
  /** What Apollo's data sources are given as the client request's context (ours read only `request` and `context`). */
  incomingRequestContext: unknown;
}

/**
 * Runs a query plan of fetches (in sequences, in parallel, flattened into entities, under
 * conditions) with exactly the semantics of @apollo/gateway's executeQueryPlan (2.x): the same
 * subgraph requests, representations, merges, error paths and result shaping, without what a
 * request through it costs besides (the operation rebuilt from the document, tracing spans and
 * usage-reporting trace nodes). Plans with data rewrites (interface objects, @fromContext) or
 * @defer are not taken: QueryPlanExecutor.of answers undefined and executeQueryPlan runs them.
 */
export class QueryPlanExecutor {
  private constructor(
    private readonly root: PlanNode | undefined,
    private readonly operation: Operation,
    private readonly supergraphSchema: GraphQLSchema,
    private readonly resultShape: CompiledResultShape | undefined,
  ) {}

  static of(
    plan: QueryPlan,
    apiSchema: Schema,
    supergraphSchema: GraphQLSchema,
    operationContext: { operation: OperationDefinitionNode; fragments: Record<string, FragmentDefinitionNode> },
  ): QueryPlanExecutor | undefined {
    const root = plan.node;
    if (root && (root.kind === 'Subscription' || !isExecutable(root))) return undefined;
    // executeQueryPlan builds this per request from the same definitions; it depends on nothing else.
    const operation = operationFromDocument(
      apiSchema,
      { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
      { validate: false },
    );
    return new QueryPlanExecutor(root, operation, supergraphSchema, CompiledResultShape.of(operation));
  }

  async execute(
    serviceMap: ServiceMap,
    context: GatewayContext,
    variables: Record<string, unknown> | undefined,
    incomingRequestContext: unknown,
  ): Promise<PlanResult> {
    const execution: Execution = { serviceMap, context, variables, errors: [], incomingRequestContext };
    const unfilteredData: ResultObject = Object.create(null);
    if (this.root) await this.executeNode(execution, this.root, { path: [], data: unfilteredData, fullResult: unfilteredData });
    let shaped: { data: PlanResult['data']; errors: GraphQLError[] };
    try {
      shaped = this.shaped(unfilteredData, variables);
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      return { errors: [new GraphQLError(error instanceof Error ? error.message : 'Unexpected error during query plan execution', { originalError: error as Error })] };
    }
    const { data, errors } = shaped;
    if (execution.errors.length) return { errors: execution.errors, data };
    return errors.length ? { extensions: { valueCompletion: errors }, data } : { data };
  }

  /** The compiled shape where it covers the data, computeResponse otherwise. */
  private shaped(input: ResultObject, variables: Record<string, unknown> | undefined): { data: PlanResult['data']; errors: GraphQLError[] } {
    if (this.resultShape) {
      try {
        return { data: this.resultShape.shape(input, variables), errors: [] };
      } catch (error) {
        if (!(error instanceof ShapeNotCovered)) throw error;
      }
    }
    return computeResponse({
      operation: this.operation,
      variables,
      input,
      introspectionHandling: () => {
        throw new Error('introspection is left to Apollo Server');
      },
    });
  }

  private async executeNode(execution: Execution, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
    if (!cursor) return;
    switch (node.kind) {
      case 'Sequence':
        for (const child of node.nodes) await this.executeNode(execution, child, cursor);
        return;
      case 'Parallel':
        await Promise.all(node.nodes.map((child) => this.executeNode(execution, child, cursor)));
        return;
      case 'Flatten':
        return this.executeNode(execution, node.node, moveIntoCursor(cursor, node.path));
      case 'Fetch':
        try {
          await this.executeFetch(execution, node, cursor);
        } catch (error) {
          execution.errors.push(error as GraphQLError);
        }
        return;
      case 'Condition': {
        const branch = evaluateCondition(node, this.operation.variableDefinitions, execution.variables) ? node.ifClause : node.elseClause;
        if (branch) await this.executeNode(execution, branch, cursor);
        return;
      }
    }
  }

  private async executeFetch(execution: Execution, fetch: FetchNode, cursor: Cursor): Promise<void> {
    const service = execution.serviceMap[fetch.serviceName];
    if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
    const entities = (Array.isArray(cursor.data) ? cursor.data.filter((entity) => entity !== null && entity !== undefined) : [cursor.data]) as ResultObject[];
    if (entities.length < 1) return;
    const variables: Record<string, unknown> = Object.create(null);
    const provided = execution.variables;
    for (const name of fetch.variableUsages ?? []) {
      if (provided && Object.prototype.hasOwnProperty.call(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }

    const send = async (fetchVariables: Record<string, unknown>): Promise<ResultObject | null | undefined> => {
      const response = await service.process({
        kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
        request: { query: fetch.operation, variables: fetchVariables, operationName: fetch.operationName },
        incomingRequestContext: execution.incomingRequestContext as never,
        context: execution.context,
        document: fetch.operationDocumentNode,
        pathInIncomingRequest: cursor.path as never,
      });
      if (response.errors) {
        const errorPath = lazyErrorPathOf(fetch, cursor);
        for (const error of response.errors) execution.errors.push(downstreamServiceError(error, fetch.serviceName, errorPath));
      }
      return response.data as ResultObject | null | undefined;
    };

    if (!fetch.requires) {
      const received = await send(variables);
      for (const entity of entities) deepMerge(entity, received);
      return;
    }
    const representations: ResultObject[] = [];
    const representationToEntity: number[] = [];
    entities.forEach((entity, index) => {
      const representation = executeSelectionSet(this.supergraphSchema, entity, fetch.requires as QueryPlanSelectionNode[]);
      if (representation && representation.__typename) {
        representations.push(representation);
        representationToEntity.push(index);
      }
    });
    if (representations.length < 1) return;
    if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
    const received = await send({ ...variables, representations });
    if (!received) return;
    const receivedEntities = received._entities;
    if (!Array.isArray(receivedEntities)) throw new Error('Expected "data._entities" in response to be an array');
    if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
    // Over the entities' count as executeQueryPlan does (past the answers when an entity had no representation).
    for (let index = 0; index < entities.length; index++) {
      const receivedEntity = receivedEntities[index] as ResultObject | null | undefined;
      const existing = entities[representationToEntity[index]];
      if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = existing.__typename;
      deepMerge(existing, receivedEntity);
    }
  }
}

function isExecutable(node: PlanNode): boolean {
  switch (node.kind) {
    case 'Fetch':
      return !node.inputRewrites?.length && !node.outputRewrites?.length && !node.contextRewrites?.length && !node.hasDefers;
    case 'Sequence':
    case 'Parallel':
      return node.nodes.every(isExecutable);
    case 'Flatten':
      return isExecutable(node.node);
    case 'Condition':
      return (!node.ifClause || isExecutable(node.ifClause)) && (!node.elseClause || isExecutable(node.elseClause));
    default:
      return false;
  }
}

const isObject = (value: unknown): value is ResultObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/** @apollo/gateway's deepMerge: the subgraph's fields into the entity, lists of equal length element by element. */
function deepMerge(target: ResultObject, source: ResultObject | null | undefined): ResultObject {
  if (source === undefined || source === null) return target;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(target, key)) Object.defineProperty(target, key, { value: undefined, writable: true, enumerable: true, configurable: true });
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing as ResultObject, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let index = 0; index < value.length; index++) {
        if (isObject(existing[index]) && isObject(value[index])) deepMerge(existing[index] as ResultObject, value[index] as ResultObject);
        else existing[index] = value[index];
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}

/** An entity's representation: the plan's `requires` selections read from what the first fetches answered. */
function executeSelectionSet(schema: GraphQLSchema, source: ResultObject | null, selections: readonly QueryPlanSelectionNode[]): ResultObject | null {
  if (source === null) return null;
  const result: ResultObject = Object.create(null);
  for (const selection of selections) {
    if (selection.kind === Kind.FIELD) {
      const responseName = getResponseName(selection);
      const value = source[responseName];
      if (!Object.prototype.hasOwnProperty.call(source, responseName) || value === undefined) return null;
      const subselections = selection.selections;
      if (Array.isArray(value)) result[responseName] = value.map((element) => (subselections ? executeSelectionSet(schema, element as ResultObject | null, subselections) : element));
      else if (subselections) result[responseName] = executeSelectionSet(schema, value as ResultObject | null, subselections);
      else result[responseName] = value;
    } else if (selection.typeCondition && source && isObjectOfType(schema, source, selection.typeCondition)) {
      deepMerge(result, executeSelectionSet(schema, source, selection.selections));
    }
  }
  return result;
}

function moveIntoCursor(cursor: Cursor, path: ResponsePath): Cursor | undefined {
  const data = flattenResultsAtPath(cursor.data, path);
  return data ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult } : undefined;
}

function flattenResultsAtPath(value: unknown, path: ResponsePath): unknown {
  if (path.length === 0 || value === undefined || value === null) return value;
  const [current, ...rest] = path;
  if (current === '@') return (value as unknown[]).flatMap((element) => flattenResultsAtPath(element, rest));
  assert(typeof current === 'string', () => `Unexpected ${typeof current} found in path`);
  assert(!Array.isArray(value), () => `Unexpected array in result for path element ${current}`);
  return flattenResultsAtPath(Object.prototype.hasOwnProperty.call(value, current) ? (value as ResultObject)[current] : undefined, rest);
}

/** A subgraph error's path in the client's result: under the cursor, or for an entity, the path of the entity it was sent for. */
function lazyErrorPathOf(fetch: FetchNode, cursor: Cursor): (errorPath: GraphQLFormattedError['path']) => ResponsePath | undefined {
  let hydratedPaths: ResponsePath[] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydratedPaths) {
        hydratedPaths = [];
        generateHydratedPaths([], cursor.path, cursor.fullResult, hydratedPaths);
      }
      return [...(hydratedPaths[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath] : undefined;
  };
}

function generateHydratedPaths(parent: ResponsePath, path: ResponsePath, data: unknown, result: ResponsePath[]): void {
  const head = path[0];
  if (data === null || data === undefined) return;
  if (head === undefined) {
    result.push(parent.slice());
  } else if (head === '@') {
    (data as unknown[]).forEach((value, index) => {
      parent.push(index);
      generateHydratedPaths(parent, path.slice(1), value, result);
      parent.pop();
    });
  } else if (Array.isArray(data)) {
    data.forEach((value, index) => {
      parent.push(index);
      generateHydratedPaths(parent, path, value, result);
      parent.pop();
    });
  } else if (Object.prototype.hasOwnProperty.call(data, head)) {
    parent.push(head);
    generateHydratedPaths(parent, path.slice(1), (data as ResultObject)[head as string], result);
    parent.pop();
  }
}

function downstreamServiceError(
  original: GraphQLFormattedError,
  serviceName: string,
  errorPath: (path: GraphQLFormattedError['path']) => ResponsePath | undefined,
): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: original as Error,
    path: errorPath(original.path),
    extensions: { ...original.extensions, serviceName },
  };
  const codeDef = errorCodeDef(original as GraphQLError);
  if (!codeDef && original.extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
