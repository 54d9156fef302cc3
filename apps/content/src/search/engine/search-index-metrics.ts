import { counter, gauge } from '@multipult/observability';

export const indexedDocuments = () =>
  counter({
    name: 'content_search_index_documents_total',
    help: 'Documents the search indexer wrote to the engine, by operation (index, delete)',
    labelNames: ['operation'] as const,
  });

export const indexingFailures = () =>
  counter({ name: 'content_search_index_failures_total', help: 'Indexer batches the engine refused or did not answer', labelNames: [] as const });

/** One change queue's backlog: rows not yet written to the engine, and how long the oldest has waited. */
export interface QueueBacklog {
  queue: 'live' | 'build';
  pending: number;
  oldestAgeSeconds: number;
}

/** What a running indexer reports: its queues' backlogs, and whether its replica's searches go to the engine. */
export interface IndexerReadings {
  backlogs(): Promise<QueueBacklog[]>;
  serving(): Promise<boolean>;
}

/**
 * Every running indexer of the process (the embedded launcher runs several services in one, tests
 * several replicas); the gauges report each at scrape time. A global symbol because tests and
 * tools may load two copies of this module.
 */
const INDEXERS = Symbol.for('multipult.searchIndexers');

function sources(): Map<object, IndexerReadings> {
  const registry = globalThis as { [INDEXERS]?: Map<object, IndexerReadings> };
  return (registry[INDEXERS] ??= new Map<object, IndexerReadings>());
}

let reading: Promise<QueueBacklog[]> | undefined;

/**
 * Every source's backlogs; an unreachable database leaves its series out of the scrape rather than
 * failing it. prom-client collects a scrape's metrics at once, so both backlog gauges share the read
 * in flight: one query per scrape, never a stale answer.
 */
function readBacklogs(): Promise<QueueBacklog[]> {
  reading ??= Promise.all([...sources().values()].map((source) => source.backlogs().catch(() => [])))
    .then((backlogs) => backlogs.flat())
    .finally(() => {
      reading = undefined;
    });
  return reading;
}

/** A gauge of one figure of every queue's backlog, read at scrape time. */
const backlogGauge = (name: string, help: string, figure: (backlog: QueueBacklog) => number) =>
  gauge({
    name,
    help,
    labelNames: ['queue'] as const,
    async collect() {
      const backlogs = await readBacklogs();
      this.reset();
      for (const backlog of backlogs) this.set({ queue: backlog.queue }, figure(backlog));
    },
  });

export const searchIndexMetrics = () => ({
  pending: backlogGauge(
    'content_search_index_pending_changes',
    "Document changes queued for the search engine and not yet written, by queue: live (the serving index) and build (an index being built, the first or a next layout's; 0 when none is)",
    (backlog) => backlog.pending,
  ),
  oldestAge: backlogGauge(
    'content_search_index_oldest_pending_age_seconds',
    'How long the oldest queued change has waited, by queue (the indexing lag; 0 when the queue is empty)',
    (backlog) => backlog.oldestAgeSeconds,
  ),
  serving: gauge({
    name: 'content_search_engine_serving',
    help: "1 while this replica's relevance and date searches go to the search engine; 0 while PostgreSQL answers them (no engine configured, or no index of this release's layout behind the alias: the first index or a next layout is being built), and while the engine is unreachable (searches then fail with SERVICE_UNAVAILABLE)",
    labelNames: [] as const,
    async collect() {
      this.reset();
      const readings = [...sources().values()];
      if (!readings.length) return;
      const serving = await Promise.all(readings.map((source) => source.serving().catch(() => false)));
      this.set(serving.some(Boolean) ? 1 : 0);
    },
  }),
});

export function registerIndexer(owner: object, readings: IndexerReadings): void {
  sources().set(owner, readings);
}

export function unregisterIndexer(owner: object): void {
  sources().delete(owner);
}
