import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, StackContextManager, TracerProvider } from '@opentelemetry/sdk-trace';
import { inConsumerBatchSpan, inConsumerSpan, startServiceTracing, tracingOptionsFromEnv } from './tracing';

// The Node SDK itself is exercised end to end (apps/platform-e2e tracing.spec.ts); it cannot start in jest.
describe('tracing from the environment', () => {
  it('names the service by OTEL_SERVICE_NAME, else by its own name', () => {
    const endpoint = 'http://collector:4318';
    expect(tracingOptionsFromEnv('auth', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toEqual({ service: 'auth', endpoint, sampleRatio: 1 });
    expect(tracingOptionsFromEnv('auth', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'auth-canary', OTEL_SAMPLE_RATIO: '0.25' })).toEqual({
      service: 'auth-canary',
      endpoint,
      sampleRatio: 0.25,
    });
    expect(tracingOptionsFromEnv('auth', { OTEL_SERVICE_NAME: '' })).toEqual({ service: 'auth', endpoint: undefined, sampleRatio: 1 });
  });

  it('stays off without an endpoint, or with an invalid value (the config check names it)', () => {
    expect(tracingOptionsFromEnv('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toBeUndefined();
    expect(tracingOptionsFromEnv('svc', { OTEL_SAMPLE_RATIO: '2' })).toBeUndefined();
    expect(startServiceTracing('svc', {})).toBe(false);
    expect(startServiceTracing('svc', { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toBe(false);
  });
});

describe('consumer spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  /** The spans ended so far (the processor exports them asynchronously). */
  const finishedSpans = async () => {
    await provider.forceFlush();
    return exporter.getFinishedSpans();
  };

  beforeAll(() => {
    // What the Node SDK registers in a service.
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    context.setGlobalContextManager(new StackContextManager().enable());
  });

  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
  });

  beforeEach(() => exporter.reset());

  const traceparentOf = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

  it("continues the producer's trace for one event", async () => {
    await inConsumerSpan('consume user.mentioned', traceparentOf('1'.repeat(32), '2'.repeat(16)), async () => undefined);
    const [span] = await finishedSpans();
    expect({ name: span.name, kind: span.kind, traceId: span.spanContext().traceId, parent: span.parentSpanContext?.spanId }).toEqual({
      name: 'consume user.mentioned',
      kind: SpanKind.CONSUMER,
      traceId: '1'.repeat(32),
      parent: '2'.repeat(16),
    });
  });

  it("handles a batch in a span of its own, linked to each producer's span (events without a trace are counted, not linked)", async () => {
    const producers = [traceparentOf('a'.repeat(32), 'b'.repeat(16)), undefined, traceparentOf('c'.repeat(32), 'd'.repeat(16))];
    await expect(
      inConsumerBatchSpan('consume user.mentioned (3)', producers, async () => {
        throw new Error('the batch failed');
      }),
    ).rejects.toThrow('the batch failed');
    const [span] = await finishedSpans();
    expect(span.parentSpanContext).toBeUndefined();
    expect(['a'.repeat(32), 'c'.repeat(32)]).not.toContain(span.spanContext().traceId);
    expect(span.links.map((link) => [link.context.traceId, link.context.spanId])).toEqual([
      ['a'.repeat(32), 'b'.repeat(16)],
      ['c'.repeat(32), 'd'.repeat(16)],
    ]);
    expect({ kind: span.kind, count: span.attributes['messaging.batch.message_count'], status: span.status }).toEqual({
      kind: SpanKind.CONSUMER,
      count: 3,
      status: { code: SpanStatusCode.ERROR, message: 'the batch failed' },
    });
  });
});
