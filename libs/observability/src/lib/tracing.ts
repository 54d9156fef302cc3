import { Link, ROOT_CONTEXT, SpanKind, SpanOptions, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type * as OtlpHttpExporterModule from '@opentelemetry/exporter-trace-otlp-http';
import type * as HttpInstrumentationModule from '@opentelemetry/instrumentation-http';
import type * as UndiciInstrumentationModule from '@opentelemetry/instrumentation-undici';
import type * as NodeSdkModule from '@opentelemetry/sdk-node';
import type * as SdkTraceModule from '@opentelemetry/sdk-trace';
import { z } from 'zod';

const TRACING = Symbol.for('multipult.tracing');
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)\b/;

type TracingRegistry = { [TRACING]?: NodeSdkModule.NodeSDK };

export interface TracingOptions {
  service: string;
  endpoint?: string;
  sampleRatio?: number;
}

/**
 * Starts OpenTelemetry tracing (W3C trace context, OTLP over HTTP) when an endpoint is configured;
 * off otherwise. Call it before the app's modules load so `http` is instrumented. Once per process.
 */
export function startTracing(options: TracingOptions): boolean {
  if (!options.endpoint) return false;
  const registry = globalThis as TracingRegistry;
  if (registry[TRACING]) return true;
  const { NodeSDK, OTLPTraceExporter, HttpInstrumentation, UndiciInstrumentation, ParentBasedSampler, TraceIdRatioBasedSampler } = loadTracingSdk();
  const sdk = new NodeSDK({
    serviceName: options.service,
    traceExporter: new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => QUIET_PATHS.test(request.url ?? '') }),
      // The gateway's subgraph calls (undici pools) and fetch().
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  registry[TRACING] = sdk;
  return true;
}

/**
 * The SDK, its exporter and instrumentations, required only when tracing is on: loading them was
 * 0.3 s of the 2.9 s of CPU auth spends starting, and most processes run without an endpoint.
 * Required, not imported: the instrumentations must be in place before the app's modules load, so
 * this stays synchronous, and CommonJS keeps one copy of @opentelemetry/api.
 */
function loadTracingSdk() {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof NodeSdkModule;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttpExporterModule;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInstrumentationModule;
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof UndiciInstrumentationModule;
  const { ParentBasedSampler, TraceIdRatioBasedSampler } = require('@opentelemetry/sdk-trace') as typeof SdkTraceModule;
  return { NodeSDK, OTLPTraceExporter, HttpInstrumentation, UndiciInstrumentation, ParentBasedSampler, TraceIdRatioBasedSampler };
}

const tracingEnv = z.object({
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
});

/**
 * Tracing options from the standard variables: the service is named by OTEL_SERVICE_NAME (default:
 * `service`), spans go to OTEL_EXPORTER_OTLP_ENDPOINT. Undefined when a value is invalid (tracing
 * stays off; the service's config check then names it).
 */
export function tracingOptionsFromEnv(service: string, env: Record<string, string | undefined>): TracingOptions | undefined {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = tracingEnv.safeParse(present);
  if (!parsed.success) return undefined;
  return {
    service: parsed.data.OTEL_SERVICE_NAME ?? service,
    endpoint: parsed.data.OTEL_EXPORTER_OTLP_ENDPOINT,
    sampleRatio: parsed.data.OTEL_SAMPLE_RATIO,
  };
}

/** Starts tracing as the environment says (see tracingOptionsFromEnv). Call before the app's modules load. */
export function startServiceTracing(service: string, env: Record<string, string | undefined> = process.env): boolean {
  const options = tracingOptionsFromEnv(service, env);
  return options ? startTracing(options) : false;
}

/** Flushes and stops tracing (at shutdown, so the last spans are exported). */
export async function stopTracing(): Promise<void> {
  const registry = globalThis as TracingRegistry;
  const sdk = registry[TRACING];
  registry[TRACING] = undefined;
  await sdk?.shutdown();
}

/** The W3C traceparent of the active span, when tracing records one. */
export function activeTraceparent(): string | undefined {
  const span = trace.getActiveSpan();
  const spanContext = span?.spanContext();
  if (!spanContext || !trace.isSpanContextValid(spanContext) || !span?.isRecording()) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${spanContext.traceFlags.toString(16).padStart(2, '0')}`;
}

/**
 * Runs work (handling one consumed event) in a CONSUMER span that continues the producer's trace,
 * so gateway -> subgraph -> Kafka -> consumer is one trace. Without tracing it just runs the work.
 */
export async function inConsumerSpan<T>(name: string, traceparent: string | undefined, work: () => Promise<T>): Promise<T> {
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  return context.with(parent, () => inSpan(name, { kind: SpanKind.CONSUMER }, work));
}

/**
 * Runs work that handles several consumed events together in one CONSUMER span of its own, linked
 * to each producer's span (the OpenTelemetry way for a batch: it has no single parent).
 */
export async function inConsumerBatchSpan<T>(name: string, traceparents: readonly (string | undefined)[], work: () => Promise<T>): Promise<T> {
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    const linked = traceparent ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent })) : undefined;
    if (linked && trace.isSpanContextValid(linked)) links.push({ context: linked });
  }
  const options: SpanOptions = { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.batch.message_count': traceparents.length } };
  return context.with(ROOT_CONTEXT, () => inSpan(name, options, work));
}

function inSpan<T>(name: string, options: SpanOptions, work: () => Promise<T>): Promise<T> {
  return trace.getTracer('multipult-events').startActiveSpan(name, options, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
