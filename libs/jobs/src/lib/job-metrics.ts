import { counter, gauge, histogram } from '@multipult/observability';

type QueueSizes = () => Promise<{ service: string; queue: string; state: string; count: number }[]>;

/**
 * Every started JobQueue of the process (the embedded launcher runs several services in one, tests
 * run several replicas); the one gauge reports each while it runs. A global symbol
 * because tests and tools may load two copies of this lib.
 */
const QUEUE_SIZE_SOURCES = Symbol.for('multipult.jobQueueSizes');

function sources(): Map<object, QueueSizes> {
  const registry = globalThis as { [QUEUE_SIZE_SOURCES]?: Map<object, QueueSizes> };
  return (registry[QUEUE_SIZE_SOURCES] ??= new Map<object, QueueSizes>());
}

export function registerQueueSizeSource(owner: object, sizes: QueueSizes): void {
  sources().set(owner, sizes);
  gauge({
    name: 'jobs_queue_size',
    help: 'Jobs by queue and state (deferred, ready, active, failed), read from pg-boss at scrape time',
    labelNames: ['service', 'queue', 'state'] as const,
    async collect() {
      this.reset();
      for (const read of sources().values()) {
        for (const { service, queue, state, count } of await read().catch(() => [])) this.set({ service, queue, state }, count);
      }
    },
  });
}

export function unregisterQueueSizeSource(owner: object): void {
  sources().delete(owner);
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export const jobMetrics = () => ({
  handlerDuration: histogram({
    name: 'jobs_handler_duration_seconds',
    help: 'Time a job handler ran, by queue and outcome (completed, failed, cancelled, abandoned at shutdown or expiry)',
    labelNames: ['service', 'queue', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
  }),
  completed: counter({ name: 'jobs_completed_total', help: 'Job attempts that completed', labelNames: ['service', 'queue'] as const }),
  failed: counter({
    name: 'jobs_failed_total',
    help: 'Job attempts that failed (retried, or dead-lettered after the last)',
    labelNames: ['service', 'queue'] as const,
  }),
  deadLettered: counter({
    name: 'jobs_dead_lettered_total',
    help: 'Jobs that failed their last attempt and moved to <queue>.dead',
    labelNames: ['service', 'queue'] as const,
  }),
});
