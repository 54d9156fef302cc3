import { GraphQLError, GraphQLFormattedError, Kind } from 'graphql';
import { ErrorCode, formatError } from '@multipult/graphql';

/**
 * Where graphql-ws reports an operation's errors: in a `next` result (execution, including variable
 * values that do not coerce), or in an `error` message (a refusal before execution: validation, an
 * operation it cannot identify; or a subscription's stream failing).
 */
export type OperationErrorStage = 'result' | 'refusal';

/**
 * The code HTTP answers an error with, for the errors graphql-js and graphql-ws raise without one
 * (formatError would take them for failures, INTERNAL): a variable value that does not coerce is
 * BAD_USER_INPUT (as Apollo answers it), a refusal before execution GRAPHQL_VALIDATION_FAILED.
 */
function withRequestErrorCode(error: GraphQLError, stage: OperationErrorStage): GraphQLError {
  if (error.extensions?.code !== undefined) return error;
  const nodes = error.nodes ?? [];
  const badVariable = nodes.length === 1 && nodes[0].kind === Kind.VARIABLE_DEFINITION;
  // A refusal's errors are graphql's own; one with an original error is the stream failing, left to formatError.
  const code = badVariable ? ErrorCode.BAD_USER_INPUT : stage === 'refusal' && !error.originalError ? 'GRAPHQL_VALIDATION_FAILED' : undefined;
  if (!code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/** An operation's errors as the socket sends them: each with the code HTTP would answer, through formatError. */
export function formatOperationErrors(errors: readonly GraphQLError[], stage: OperationErrorStage): GraphQLFormattedError[] {
  return errors.map((error) => {
    const coded = withRequestErrorCode(error, stage);
    return formatError(coded.toJSON(), coded);
  });
}
