import type { ApolloServerPlugin } from '@apollo/server';
import { graphqlErrors, graphqlOperationDuration } from '@multipult/observability';

/** The label of operations whose name is not on the allowed list. */
export const OTHER_OPERATION = 'other';

/**
 * Records operations' latency by type, name and outcome for Prometheus. Only the names the
 * schema's owner allows (METRICS_OPERATION_NAMES) become labels; other names count as `other`,
 * since clients choose operation names freely and every new label value is a new time series.
 */
export class OperationMetrics {
  private readonly allowed: Set<string>;

  constructor(operationNames: readonly string[] = []) {
    this.allowed = new Set(operationNames);
    // Registered with the server, not on the first operation or error, so they are exported from the start.
    graphqlOperationDuration();
    graphqlErrors();
  }

  /** Starts timing an operation; the returned function records it once its outcome is known. */
  startTimer(): (operationType: string | undefined, operationName: string | null | undefined, failed: boolean) => void {
    const stopTimer = graphqlOperationDuration().startTimer();
    return (operationType, operationName, failed) =>
      stopTimer({ operation_type: operationType ?? 'unknown', operation_name: this.nameLabel(operationName), outcome: failed ? 'error' : 'success' });
  }

  private nameLabel(name: string | null | undefined): string {
    return !name ? 'anonymous' : this.allowed.has(name) ? name : OTHER_OPERATION;
  }
}

/** OperationMetrics for the operations Apollo Server runs. */
export function graphqlMetricsPlugin(options: { operationNames?: readonly string[] } = {}): ApolloServerPlugin {
  const metrics = new OperationMetrics(options.operationNames);
  return {
    async requestDidStart() {
      const stopTimer = metrics.startTimer();
      let failed = false;
      return {
        async didEncounterErrors() {
          failed = true;
        },
        async willSendResponse(context) {
          stopTimer(context.operation?.operation, context.operationName, failed);
        },
      };
    },
  };
}
