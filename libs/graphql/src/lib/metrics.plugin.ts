import type { ApolloServerPlugin } from '@apollo/server';
import { graphqlOperationDuration } from '@multipult/observability';

/** Records every operation's latency by type, name and outcome for Prometheus. */
export function graphqlMetricsPlugin(): ApolloServerPlugin {
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
            operation_name: context.operationName ?? 'anonymous',
            outcome: failed ? 'error' : 'success',
          });
        },
      };
    },
  };
}
