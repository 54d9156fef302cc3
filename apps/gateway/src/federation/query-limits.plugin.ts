import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  ASTNode,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  ParseOptions,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  visit,
} from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { QueryTooComplexError } from '@multipult/graphql';
import type { GatewayConfig } from '../config';

/** What the gateway allows of a GraphQL document, on the fast path and in Apollo Server alike. */
export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
}

export function queryLimitsOf(
  config: Pick<GatewayConfig, 'QUERY_MAX_DEPTH' | 'QUERY_MAX_COST' | 'GRAPHQL_MAX_ALIASES' | 'GRAPHQL_MAX_DIRECTIVES' | 'GRAPHQL_MAX_TOKENS'>,
): QueryLimits {
  return {
    maxDepth: config.QUERY_MAX_DEPTH,
    maxCost: config.QUERY_MAX_COST,
    maxAliases: config.GRAPHQL_MAX_ALIASES,
    maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
    maxTokens: config.GRAPHQL_MAX_TOKENS,
  };
}

/** Parsing stops at GRAPHQL_MAX_TOKENS tokens with a syntax error (GRAPHQL_PARSE_FAILED). */
export function documentParseOptions(limits: Pick<QueryLimits, 'maxTokens'>): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * GraphQL Armor's alias and directive limits as validation rules (GRAPHQL_VALIDATION_FAILED). By
 * default they throw out of graphql-js's validate, which Apollo Server answers with a 500;
 * reported instead, they are validation errors like any other.
 */
export function documentValidationRules(limits: Pick<QueryLimits, 'maxAliases' | 'maxDirectives'>): ValidationRule[] {
  const reported = {
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
  };
  return [maxAliasesRule({ n: limits.maxAliases, ...reported }), maxDirectivesRule({ n: limits.maxDirectives, ...reported })];
}

/**
 * The error for a document whose operation to run cannot be chosen (no operation of the name
 * given, or several and no name): graphql-js's message, answered as Apollo Server answers it
 * without a gateway (400 OPERATION_RESOLUTION_FAILURE).
 */
export function operationResolutionError(operationName: string | null | undefined): GraphQLError {
  const message =
    operationName === undefined || operationName === null
      ? 'Must provide operation name if query contains multiple operations.'
      : `Unknown operation named "${operationName}".`;
  return new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
}

/** Deepest field nesting of an operation, following fragments (introspection fields count too). */
export function operationDepth(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  visited = new Set<string>(),
): number {
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      deepest = Math.max(deepest, 1 + (selection.selectionSet ? operationDepth(selection.selectionSet, fragments, visited) : 0));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, operationDepth(selection.selectionSet, fragments, visited));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || visited.has(name)) continue;
      deepest = Math.max(deepest, operationDepth(fragment.selectionSet, fragments, new Set(visited).add(name)));
    }
  }
  return deepest;
}

/** Lists cost their children times the page size asked for (`first`, default 20). */
const paginationEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const pageSize = typeof args.first === 'number' ? args.first : typeof args.limit === 'number' ? args.limit : undefined;
  return pageSize === undefined ? undefined : 1 + childComplexity * Math.max(1, pageSize);
};

/** Fragments of a document by name. */
export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

/**
 * The operation's cost: every field 1, lists times the page size asked for. Undefined when the
 * variables do not fit the operation (Apollo refuses them as BAD_USER_INPUT when it executes).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
): number | undefined {
  try {
    return getComplexity({
      schema,
      query: document,
      operationName,
      variables,
      estimators: [paginationEstimator, simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    if (error instanceof GraphQLError) return undefined;
    throw error;
  }
}

/**
 * The variables an operation's cost depends on: page sizes (`first`, `limit`) and the conditions
 * of @skip and @include. An operation without any costs the same for every request.
 */
export function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(argument, _key, _parent, _path, ancestors) {
      if (argument.value.kind !== Kind.VARIABLE) return;
      const owner = ancestors[ancestors.length - 1];
      const isCondition = !Array.isArray(owner) && (owner as ASTNode).kind === Kind.DIRECTIVE && argument.name.value === 'if';
      if (isCondition || argument.name.value === 'first' || argument.name.value === 'limit') names.add(argument.value.name.value);
    },
  });
  return [...names];
}

/**
 * Refuses operations deeper than `maxDepth` or costlier than `maxCost` before any subgraph is
 * called, with QUERY_TOO_COMPLEX and the measured value.
 */
export function checkQueryLimits(depth: number, cost: number | undefined, limits: Pick<QueryLimits, 'maxDepth' | 'maxCost'>): void {
  if (depth > limits.maxDepth) throw new QueryTooComplexError('errors.query_too_deep', { depth, limit: limits.maxDepth });
  if (cost !== undefined && cost > limits.maxCost) throw new QueryTooComplexError('errors.query_too_complex', { cost, limit: limits.maxCost });
}

/**
 * The depth and cost limits for requests Apollo Server serves (those the GraphQL fast path leaves
 * to it). Apollo Server calls this hook even when no operation was resolved, and @apollo/gateway
 * would then fail with an untyped error: such a request is refused here.
 */
export function queryLimitsPlugin(limits: Pick<QueryLimits, 'maxDepth' | 'maxCost'>): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) throw operationResolutionError(request.operationName);
          const depth = operationDepth(operation.selectionSet, fragmentsOf(document));
          const cost = operationCost(schema as GraphQLSchema, document, request.operationName ?? undefined, request.variables);
          checkQueryLimits(depth, cost, limits);
        },
      };
    },
  };
}
