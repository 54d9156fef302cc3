import { counter, gauge, histogram } from '@multipult/observability';

/** Event freshness, in seconds: up to a few minutes, so a backlog shows as one rather than as +Inf. */
const DELAY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

// Getters rather than module-level instances: the observability helpers reuse a metric already
// registered under the same name, so several relays or consumers in one process share it.

export const outboxMetrics = () => ({
  pending: gauge({ name: 'outbox_pending_messages', help: 'Outbox rows not yet published', labelNames: [] as const }),
  oldestPendingAge: gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest unpublished outbox row (the outbox lag)',
    labelNames: [] as const,
  }),
  published: counter({
    name: 'outbox_published_total',
    help: 'Outbox messages published to the event transport',
    labelNames: ['topic'] as const,
  }),
  publishFailures: counter({
    name: 'outbox_publish_failures_total',
    help: 'Outbox messages whose publish attempt failed (they stay pending and are retried)',
    labelNames: ['topic'] as const,
  }),
  publishDelay: histogram({
    name: 'outbox_publish_delay_seconds',
    help: "From an outbox row's writing transaction to the broker acknowledging it (database clock, then the relay's)",
    labelNames: ['topic'] as const,
    buckets: DELAY_BUCKETS,
  }),
});

export const consumerMetrics = () => ({
  lag: gauge({
    name: 'events_consumer_lag_messages',
    help: 'Messages on a partition not yet processed by the consumer group',
    labelNames: ['group', 'topic', 'partition'] as const,
  }),
  processed: counter({
    name: 'events_consumer_processed_total',
    help: 'Messages a consumer group finished: handled, duplicate (already in the inbox) or not_subscribed (no contract)',
    labelNames: ['group', 'topic', 'result'] as const,
  }),
  failures: counter({
    name: 'events_consumer_failures_total',
    help: 'Failed handler attempts (each retry counts)',
    labelNames: ['group', 'topic'] as const,
  }),
  databaseWaits: counter({
    name: 'events_consumer_database_waits_total',
    help: "Failed handler attempts made while the service's database was unreachable: not counted towards dead-lettering, the consumer waited for the database",
    labelNames: ['group', 'topic'] as const,
  }),
  deadLettered: counter({
    name: 'events_consumer_dead_lettered_total',
    help: 'Messages moved to the dead-letter topic',
    labelNames: ['group', 'topic'] as const,
  }),
  parked: counter({
    name: 'events_consumer_parked_total',
    help: 'Messages that overran the handling deadline and were moved to the retry topic (the partition moved on)',
    labelNames: ['group', 'topic'] as const,
  }),
  restarts: counter({
    name: 'events_consumer_restarts_total',
    help: 'Consumers started again after an error kafkajs does not restart from (e.g. one a handler threw)',
    labelNames: ['group'] as const,
  }),
  delay: histogram({
    name: 'events_consumer_delay_seconds',
    help: "From an event's occurredAt (the writer's clock) to the consumer group committing its handling: end-to-end event freshness",
    labelNames: ['group', 'topic'] as const,
    buckets: DELAY_BUCKETS,
  }),
  batchFallbacks: counter({
    name: 'events_consumer_batch_fallbacks_total',
    help: 'Batches whose one transaction failed and whose events were then handled one transaction each',
    labelNames: ['group', 'topic'] as const,
  }),
});
