import { startServiceTracing, tracingOptionsFromEnv } from './tracing';

// The SDK itself is exercised end to end (apps/platform-e2e tracing.spec.ts); it cannot start in jest.
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
