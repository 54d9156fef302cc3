import { metricsRegistry } from './metrics';
import { retentionRan, retentionScheduled } from './retention-metrics';

const sample = async (name: string, labels: Record<string, string>): Promise<number | undefined> => {
  const metric = await metricsRegistry.getSingleMetric(name)?.get();
  return metric?.values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value;
};

describe('retention metrics', () => {
  it('exports a scheduled job before its first run, then its deletions and last run', async () => {
    retentionScheduled('spec.retention', 600);

    const exposition = await metricsRegistry.metrics();
    for (const name of ['retention_deleted_rows_total', 'retention_deleted_files_total', 'retention_last_run_timestamp_seconds']) {
      expect(exposition).toContain(`# TYPE ${name} `);
    }
    expect(await sample('retention_interval_seconds', { job: 'spec.retention' })).toBe(600);
    expect(await sample('retention_last_run_timestamp_seconds', { job: 'spec.retention' })).toBeUndefined();

    const before = Date.now() / 1000;
    retentionRan('spec.retention', { rows: { outbox: 3, inbox: 0 }, files: 2 });
    retentionRan('spec.retention', { rows: { outbox: 1 } });

    expect(await sample('retention_deleted_rows_total', { job: 'spec.retention', table: 'outbox' })).toBe(4);
    expect(await sample('retention_deleted_rows_total', { job: 'spec.retention', table: 'inbox' })).toBe(0);
    expect(await sample('retention_deleted_files_total', { job: 'spec.retention' })).toBe(2);
    expect(await sample('retention_last_run_timestamp_seconds', { job: 'spec.retention' })).toBeGreaterThanOrEqual(before);
  });
});
