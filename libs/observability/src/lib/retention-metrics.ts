import { counter, gauge } from './metrics';

// Retention jobs run once across replicas, so only the replica that ran a job reports its last run:
// alerts and dashboards take the max over replicas.

export const retentionMetrics = () => ({
  deletedRows: counter({
    name: 'retention_deleted_rows_total',
    help: 'Rows retention jobs deleted, by job and table',
    labelNames: ['job', 'table'] as const,
  }),
  deletedFiles: counter({
    name: 'retention_deleted_files_total',
    help: 'Stored files retention jobs deleted (their rows stay, marked deleted), by job',
    labelNames: ['job'] as const,
  }),
  lastRun: gauge({
    name: 'retention_last_run_timestamp_seconds',
    help: 'When this process last finished a run of a retention job (Unix time)',
    labelNames: ['job'] as const,
  }),
  interval: gauge({
    name: 'retention_interval_seconds',
    help: 'How often a retention job is meant to run',
    labelNames: ['job'] as const,
  }),
});

/** Declares a retention job and its schedule at start-up, so its metrics are exported before its first run. */
export function retentionScheduled(job: string, everySeconds: number): void {
  retentionMetrics().interval.set({ job }, everySeconds);
}

/** Records one finished run of a retention job: rows deleted per table, files deleted, and when. */
export function retentionRan(job: string, deleted: { rows?: Record<string, number>; files?: number }): void {
  const metrics = retentionMetrics();
  for (const [table, count] of Object.entries(deleted.rows ?? {})) metrics.deletedRows.inc({ job, table }, count);
  if (deleted.files !== undefined) metrics.deletedFiles.inc({ job }, deleted.files);
  metrics.lastRun.set({ job }, Date.now() / 1000);
}
