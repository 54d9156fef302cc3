import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register } from 'prom-client';

/** Metrics live in prom-client's default registry so every lib can add its own without wiring. */
export const metricsRegistry: Registry = register;

/** Process metrics once per process (the embedded launcher runs several services in one). */
export function startDefaultMetrics(service: string): void {
  if (metricsRegistry.getSingleMetric('process_cpu_user_seconds_total')) return;
  metricsRegistry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: metricsRegistry });
}

/** Returns the already registered metric of that name, so tests and several app instances in one process share it. */
export function histogram<T extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly T[];
  buckets?: number[];
}): Histogram<T> {
  return (metricsRegistry.getSingleMetric(config.name) as Histogram<T>) ?? new Histogram({ ...config, registers: [metricsRegistry] });
}

export function counter<T extends string>(config: { name: string; help: string; labelNames: readonly T[] }): Counter<T> {
  return (metricsRegistry.getSingleMetric(config.name) as Counter<T>) ?? new Counter({ ...config, registers: [metricsRegistry] });
}

export function gauge<T extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly T[];
  collect?: (this: Gauge<T>) => void | Promise<void>;
}): Gauge<T> {
  return (metricsRegistry.getSingleMetric(config.name) as Gauge<T>) ?? new Gauge({ ...config, registers: [metricsRegistry] });
}

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequestDuration = () =>
  histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
  });

export const graphqlOperationDuration = () =>
  histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operation latency by operation type and name',
    labelNames: ['operation_type', 'operation_name', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
  });

export const graphqlErrors = () =>
  counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors returned to clients, by error code',
    labelNames: ['code'] as const,
  });
