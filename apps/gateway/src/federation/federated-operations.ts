import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { buildOperationContext, ServiceMap } from '@apollo/gateway';
import { Schema, Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import {
  DocumentNode,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  TypeInfo,
  ValidationRule,
  getNamedType,
  getOperationAST,
  isEnumType,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import {
  QueryLimits,
  costVariables,
  documentParseOptions,
  documentValidationRules,
  fragmentsOf,
  operationCost,
  operationDepth,
} from './query-limits.plugin';
import { QueryPlanExecutor } from './query-plan-executor';
import { SubgraphClient, SubgraphDataSource } from './subgraph-client';

/** A single-subgraph plan whose subgraph answer is, byte for byte, the client's answer. */
export interface PassThrough {
  subgraph: SubgraphDataSource;
  query: string;
  operationName: string | undefined;
  variableNames: string[];
}

/** A valid query or mutation within the limits, planned once for every request that sends it. */
export interface PlannedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  plan: QueryPlan;
  operationContext: ReturnType<typeof buildOperationContext>;
  passThrough: PassThrough | undefined;
  /** Runs the plan as executeQueryPlan would, more cheaply; undefined for plans only executeQueryPlan runs. */
  executor: QueryPlanExecutor | undefined;
  /** Whether the operation with these variables is within the cost limit (false too when they do not fit the operation). */
  withinCostLimit(variables: Record<string, unknown> | undefined): boolean;
}

/** How many distinct documents (per operation name) stay planned. */
const PLANNED_OPERATIONS = 2_000;
/**
 * And how much memory they may hold: a parsed and planned document takes roughly twenty times its
 * text, so a client sending many large documents evicts others instead of growing the heap.
 */
const PLANNED_OPERATIONS_BYTES = 64 * 1024 * 1024;
const BYTES_PER_QUERY_CHARACTER = 20;

/**
 * One supergraph, ready to serve operations without Apollo Server: the API schema, the query
 * planner, a data source per subgraph, and the operations planned so far.
 */
export class PlannedSupergraph {
  readonly apiSchema: Schema;
  readonly schema: GraphQLSchema;
  readonly supergraphSchema: GraphQLSchema;
  readonly serviceMap: ServiceMap;
  private readonly planner: QueryPlanner;
  private readonly subgraphSchemas = new Map<string, GraphQLSchema>();
  private readonly validationRules: readonly ValidationRule[];
  /** Planned operations, and `false` for documents Apollo Server answers (invalid, over the limits, introspection, subscriptions). */
  private readonly operations = new LRUCache<string, PlannedOperation | false>({
    max: PLANNED_OPERATIONS,
    maxSize: PLANNED_OPERATIONS_BYTES,
    sizeCalculation: (_planned, key) => Math.max(1, key.length * BYTES_PER_QUERY_CHARACTER),
  });

  constructor(
    supergraphSdl: string,
    routingOverrides: ReadonlyMap<string, string>,
    client: SubgraphClient,
    private readonly limits: QueryLimits,
  ) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.apiSchema = supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
    const serviceMap: ServiceMap = Object.create(null);
    for (const subgraph of supergraph.subgraphs()) {
      const url = routingOverrides.get(subgraph.name) ?? subgraph.url;
      serviceMap[subgraph.name] = new SubgraphDataSource(subgraph.name, url, client);
      this.subgraphSchemas.set(subgraph.name, subgraph.schema.toGraphQLJSSchema());
    }
    this.serviceMap = serviceMap;
    this.validationRules = [...specifiedRules, ...documentValidationRules(limits)];
  }

  /** The planned operation, or undefined when Apollo Server should answer this document. */
  planned(query: string, operationName: string | undefined): PlannedOperation | undefined {
    const key = operationName === undefined ? query : `${operationName}\n${query}`;
    let planned = this.operations.get(key);
    if (planned === undefined) {
      planned = this.plan(query, operationName) ?? false;
      this.operations.set(key, planned);
    }
    return planned || undefined;
  }

  private plan(query: string, operationName: string | undefined): PlannedOperation | undefined {
    let document: DocumentNode;
    try {
      document = parse(query, documentParseOptions(this.limits));
    } catch {
      return undefined;
    }
    if (validate(this.schema, document, this.validationRules).length || usesIntrospection(document)) return undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation === 'subscription') return undefined;
    const depth = operationDepth(operation.selectionSet, fragmentsOf(document));
    if (depth > this.limits.maxDepth) return undefined;

    let plan: QueryPlan;
    let federationOperation: ReturnType<typeof operationFromDocument>;
    try {
      federationOperation = operationFromDocument(this.apiSchema, document, { operationName });
      plan = this.planner.buildQueryPlan(federationOperation);
    } catch {
      return undefined;
    }
    const variablesOfCost = costVariables(document);
    const costs = new Map<string, number>();
    const operationContext = buildOperationContext({ schema: this.schema, operationDocument: document, operationName });
    return {
      document,
      operation,
      operationName,
      plan,
      operationContext,
      passThrough: this.passThroughOf(plan, federationOperation),
      executor: QueryPlanExecutor.of(plan, this.apiSchema, this.supergraphSchema, operationContext),
      withinCostLimit: (variables) => {
        // The cost depends only on page sizes and conditions, so it is kept per their values.
        const costKey = variablesOfCost.length ? JSON.stringify(variablesOfCost.map((name) => variables?.[name] ?? null)) : '';
        let cost = costs.get(costKey);
        if (cost === undefined) {
          cost = operationCost(this.schema, document, operationName, variables);
          if (cost === undefined) return false;
          if (costs.size < 100) costs.set(costKey, cost);
        }
        return cost <= this.limits.maxCost;
      },
    };
  }

  /**
   * Pass-through when the plan is one fetch whose selections are the client's own (fragments
   * expanded, nothing added for joins) and every selected field has the same type in the subgraph
   * as in the API schema (so nulls propagate the same way and enums hold the same values).
   */
  private passThroughOf(plan: QueryPlan, operation: ReturnType<typeof operationFromDocument>): PassThrough | undefined {
    const fetch = plan.node;
    if (!fetch || fetch.kind !== 'Fetch') return undefined;
    if (fetch.requires?.length || fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) return undefined;
    const subgraphSchema = this.subgraphSchemas.get(fetch.serviceName);
    const subgraph = this.serviceMap[fetch.serviceName] as SubgraphDataSource | undefined;
    if (!subgraphSchema || !subgraph) return undefined;
    const clientDocument = parse(operation.expandAllFragments().toString());
    const fetchDocument = parse(fetch.operation);
    const clientOperation = clientDocument.definitions.find(isOperation);
    const fetchOperation = fetchDocument.definitions.find(isOperation);
    if (!clientOperation || !fetchOperation || clientOperation.operation !== fetchOperation.operation) return undefined;
    if (print(clientOperation.selectionSet) !== print(fetchOperation.selectionSet)) return undefined;
    const apiTypes = selectedFieldTypes(clientDocument, this.schema);
    const subgraphTypes = selectedFieldTypes(fetchDocument, subgraphSchema);
    if (apiTypes.length !== subgraphTypes.length || apiTypes.some((type, index) => type !== subgraphTypes[index])) return undefined;
    return { subgraph, query: fetch.operation, operationName: fetch.operationName, variableNames: fetch.variableUsages ?? [] };
  }
}

function isOperation(definition: DocumentNode['definitions'][number]): definition is OperationDefinitionNode {
  return definition.kind === Kind.OPERATION_DEFINITION;
}

function usesIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(field) {
      if (field.name.value === '__schema' || field.name.value === '__type') found = true;
    },
  });
  return found;
}

/** Every selected field's type in document order, enums with their values. */
function selectedFieldTypes(document: DocumentNode, schema: GraphQLSchema): string[] {
  const typeInfo = new TypeInfo(schema);
  const types: string[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const type = typeInfo.getType();
        const named = type && getNamedType(type);
        types.push(`${String(type)}${isEnumType(named) ? `{${named.getValues().map(({ name }) => name).join(',')}}` : ''}`);
      },
    }),
  );
  return types;
}

/**
 * The supergraph the gateway serves, planned for the GraphQL fast path; replaced whenever the
 * gateway loads a new one. A supergraph this cannot plan leaves every request to Apollo Server.
 */
export class FederatedOperations implements OnApplicationShutdown {
  private readonly logger = new Logger(FederatedOperations.name);
  private current: PlannedSupergraph | undefined;

  constructor(
    private readonly routingOverrides: ReadonlyMap<string, string>,
    readonly client: SubgraphClient,
    private readonly limits: QueryLimits,
  ) {}

  get supergraph(): PlannedSupergraph | undefined {
    return this.current;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  update(supergraphSdl: string): void {
    try {
      this.current = new PlannedSupergraph(supergraphSdl, this.routingOverrides, this.client, this.limits);
    } catch (error) {
      this.current = undefined;
      this.logger.error({ err: error }, 'supergraph not planned; Apollo Server answers every request');
    }
  }
}
