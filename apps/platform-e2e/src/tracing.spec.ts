import { once } from 'node:events';
import { IncomingMessage, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { EventConsumer, KafkaTransport, UserRegistered } from '@multipult/events';
import { RequestContext, traceIdOf } from '@multipult/observability';
import { Platform, startPlatform } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { openConsumerDatabase } from './support/consumer-database';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

/** A local OTLP/HTTP (JSON) trace receiver, as a collector would be. */
async function startOtlpReceiver() {
  const spans: ExportedSpan[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = resourceSpans.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value
          ?.stringValue;
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ service, ...span });
        }
      }
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('distributed tracing (OpenTelemetry, W3C trace context)', () => {
  let platform: Platform;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    platform = await startPlatform({ authEnv: tracing, gatewayEnv: tracing });
  });

  afterAll(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  it('follows one request from the gateway through the subgraph and Kafka to a consumer', async () => {
    const clientTraceId = '0af7651916cd43dd8448eb211c80319c';
    const account = await registerAccount(platform.gatewayUrl, 'traced', {
      traceparent: `00-${clientTraceId}-b7ad6b7169203331-01`,
    });

    const gatewaySpan = await waitFor('the gateway server span', () =>
      receiver.spans.find((span) => span.service === 'gateway' && span.traceId === clientTraceId && span.kind === 2),
    );
    const authSpan = await waitFor('the auth server span', () =>
      receiver.spans.find((span) => span.service === 'auth' && span.traceId === clientTraceId && span.kind === 2),
    );
    // The subgraph's server span hangs under the gateway's outgoing call, inside the gateway's request.
    const gatewayClientSpan = receiver.spans.find((span) => span.spanId === authSpan.parentSpanId);
    expect(gatewayClientSpan).toMatchObject({ service: 'gateway', kind: 3, traceId: clientTraceId });
    expect(gatewaySpan.parentSpanId).toBe('b7ad6b7169203331');

    // The event written in the same request carries the trace, and a consumer continues it.
    const client = new Client({ connectionString: platform.databaseUrl });
    await client.connect();
    const { rows } = await client.query(`SELECT envelope FROM auth.outbox WHERE message_key = $1 AND event_type = 'user.registered'`, [
      account.userId,
    ]);
    await client.end();
    expect(traceIdOf(rows[0].envelope.traceparent)).toBe(clientTraceId);

    const { dataSource, close } = await openConsumerDatabase('tracing_consumer');
    const transport = new KafkaTransport({ brokers: (process.env.KAFKA_BROKERS as string).split(','), clientId: 'tracing-test' });
    await transport.connect();
    const consumer = new EventConsumer(dataSource, transport, { maxRetries: 0 });
    const seen = new Map<string, string | undefined>();
    try {
      await consumer.consume({
        groupId: `tracing-${Date.now()}`,
        contracts: [UserRegistered],
        fromBeginning: true,
        handler: async (event) => {
          seen.set(event.payload.userId, RequestContext.current()?.traceparent);
        },
      });
      const consumerTraceparent = await waitFor('the consumer to handle the event', () =>
        seen.has(account.userId) ? (seen.get(account.userId) ?? '') : undefined,
      );
      expect(traceIdOf(consumerTraceparent)).toBe(clientTraceId);
    } finally {
      await consumer.stop();
      await transport.disconnect();
      await close();
    }
  });
});
