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

type BacklogSource = () => Promise<QueueBacklog[]>;

/**
 * Every running indexer of the process (the embedded launcher runs several services in one, tests
 * several replicas); the gauges report each at scrape time. A global symbol because tests and
 * tools may load two copies of this module.
 */
const BACKLOG_SOURCES = Symbol.for('multipult.searchIndexBacklog');

function sources(): Map<object, BacklogSource> {
  const registry = globalThis as { [BACKLOG_SOURCES]?: Map<object, BacklogSource> };
  return (registry[BACKLOG_SOURCES] ??= new Map<object, BacklogSource>());
}

/** Every source's backlogs; an unreachable database leaves its series out of the scrape rather than failing it. */
async function readBacklogs(): Promise<QueueBacklog[]> {
  const backlogs = await Promise.all([...sources().values()].map((read) => read().catch(() => [])));
  return backlogs.flat();
}

export const searchIndexBacklog = () => ({
  pending: gauge({
    name: 'content_search_index_pending_changes',
    help: "Document changes queued for the search engine and not yet written, by queue: live (the serving index) and build (the next layout's index while it is built; 0 when none is)",
    labelNames: ['queue'] as const,
    async collect() {
      const backlogs = await readBacklogs();
      this.reset();
      for (const backlog of backlogs) this.set({ queue: backlog.queue }, backlog.pending);
    },
  }),
  oldestAge: gauge({
    name: 'content_search_index_oldest_pending_age_seconds',
    help: 'How long the oldest queued change has waited, by queue (the indexing lag; 0 when the queue is empty)',
    labelNames: ['queue'] as const,
    async collect() {
      const backlogs = await readBacklogs();
      this.reset();
      for (const backlog of backlogs) this.set({ queue: backlog.queue }, backlog.oldestAgeSeconds);
    },
  }),
});

export function registerBacklogSource(owner: object, read: BacklogSource): void {
  sources().set(owner, read);
  searchIndexBacklog();
}

export function unregisterBacklogSource(owner: object): void {
  sources().delete(owner);
}
