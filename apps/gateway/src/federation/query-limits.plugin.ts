import type { ApolloServerPlugin } from '@apollo/server';
import {
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import { ComplexityEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { QueryTooComplexError } from '@multipult/graphql';

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

/**
 * Refuses operations deeper than `maxDepth` or costlier than `maxCost` before any subgraph is
 * called, with QUERY_TOO_COMPLEX and the measured value.
 */
export function queryLimitsPlugin(options: { maxDepth: number; maxCost: number }): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          }
          const depth = operationDepth((operation as OperationDefinitionNode).selectionSet, fragments);
          if (depth > options.maxDepth) {
            throw new QueryTooComplexError('errors.query_too_deep', { depth, limit: options.maxDepth });
          }
          let cost: number;
          try {
            cost = getComplexity({
              schema: schema as GraphQLSchema,
              query: document,
              operationName: request.operationName ?? undefined,
              variables: request.variables,
              estimators: [paginationEstimator, simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch (error) {
            // Variables that do not fit the operation: Apollo refuses them (BAD_USER_INPUT, 400) when it executes.
            if (error instanceof GraphQLError) return;
            throw error;
          }
          if (cost > options.maxCost) {
            throw new QueryTooComplexError('errors.query_too_complex', { cost, limit: options.maxCost });
          }
        },
      };
    },
  };
}
