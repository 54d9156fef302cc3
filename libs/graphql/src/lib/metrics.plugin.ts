import type { ApolloServerPlugin } from '@apollo/server';
import { graphqlErrors, graphqlOperationDuration } from '@multipult/observability';

/** The label of operations whose name is not on the allowed list. */
export const OTHER_OPERATION = 'other';

/**
 * Records every operation's latency by type, name and outcome for Prometheus. Only the names the
 * schema's owner allows (METRICS_OPERATION_NAMES) become labels; other names count as `other`,
 * since clients choose operation names freely and every new label value is a new time series.
 */
export function graphqlMetricsPlugin(options: { operationNames?: readonly string[] } = {}): ApolloServerPlugin {
  const allowed = new Set(options.operationNames ?? []);
  const nameLabel = (name: string | null | undefined) => (!name ? 'anonymous' : allowed.has(name) ? name : OTHER_OPERATION);
  // Registered with the server, not on the first operation or error, so they are exported from the start.
  graphqlOperationDuration();
  graphqlErrors();
  return {
    async requestDidStart() {
      const stopTimer = graphqlOperationDuration().startTimer();
      let failed = false;
      return {
        async didEncounterErrors() {
          failed = true;
        },
        async willSendResponse(context) {
          stopTimer({
            operation_type: context.operation?.operation ?? 'unknown',
            operation_name: nameLabel(context.operationName),
            outcome: failed ? 'error' : 'success',
          });
        },
      };
    },
  };
}
