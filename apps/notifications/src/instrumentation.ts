import { loadConfig } from '@multipult/config';
import { startTracing } from '@multipult/observability/tracing';
import { z } from 'zod';

/**
 * Imported first by main.ts: tracing must be running before http and the rest of the app load.
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
const { OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SAMPLE_RATIO } = loadConfig(
  z.object({
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    OTEL_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  }),
);
startTracing({ service: 'notifications', endpoint: OTEL_EXPORTER_OTLP_ENDPOINT, sampleRatio: OTEL_SAMPLE_RATIO });
