import { Client } from 'pg';
import { EventConsumer, KafkaTransport, UserRegistered } from '@multipult/events';
import { RequestContext, traceIdOf } from '@multipult/observability';
import { Platform, ServiceProcess, TraceCollector, eventually, startTraceCollector } from '@multipult/testing';
import { registerAccount } from './support/accounts';
import { openConsumerDatabase } from './support/consumer-database';
import { startGatewayFor } from './support/gateways';
import { usePlatform } from './support/platforms';

describe('distributed tracing (OpenTelemetry, W3C trace context)', () => {
  let platform: Platform;
  let receiver: TraceCollector;
  let gatewayUrl: string;
  const traced: ServiceProcess[] = [];

  beforeAll(async () => {
    platform = await usePlatform('default');
    receiver = await startTraceCollector();
    // An auth instance and a gateway routing to it, both exporting spans to the collector, beside the
    // shared platform's untraced ones (a platform of its own would boot every service again).
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const auth = await platform.startServiceInstance('auth', tracing);
    traced.push(auth);
    const gateway = await startGatewayFor(platform, { ...tracing, SUBGRAPHS: `auth=${auth.url}/graphql` });
    traced.push(gateway);
    gatewayUrl = `${gateway.url}/graphql`;
  });

  afterAll(async () => {
    await Promise.all(traced.map((service) => service.stop()));
    await receiver?.stop();
  });

  it('follows one request from the gateway through the subgraph and Kafka to a consumer', async () => {
    const clientTraceId = '0af7651916cd43dd8448eb211c80319c';
    const account = await registerAccount(gatewayUrl, 'traced', {
      traceparent: `00-${clientTraceId}-b7ad6b7169203331-01`,
    });

    const gatewaySpan = await eventually('the gateway server span', () =>
      receiver.spans.find((span) => span.service === 'gateway' && span.traceId === clientTraceId && span.kind === 2),
    );
    const authSpan = await eventually('the auth server span', () =>
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
    const transport = new KafkaTransport({
      brokers: (process.env.KAFKA_BROKERS as string).split(','),
      clientId: 'tracing-test',
      topicPrefix: platform.kafkaTopicPrefix,
    });
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
      const consumerTraceparent = await eventually('the consumer to handle the event', () =>
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
