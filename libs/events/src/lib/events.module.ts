import {
  BeforeApplicationShutdown,
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { APP_CONFIG, baseEnv, kafkaEnv } from '@multipult/config';
import { embeddedHubPort } from '@multipult/embedded';
import { SASLOptions } from 'kafkajs';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { EventConsumer } from './consumer/event-consumer';
import { errorText } from './error-text';
import { OutboxRelay } from './outbox/outbox-relay';
import { OutboxWriter } from './outbox/outbox-writer';
import { PrivacyParticipant } from './privacy/privacy-participant';
import { EVENT_TRANSPORT, EventTransport } from './transport/event-transport';
import { HubEventTransport } from './transport/hub-transport';
import { InProcessTransport } from './transport/in-process-transport';
import { KafkaTransport, KafkaTransportOptions } from './transport/kafka-transport';

/** The part of a service's validated configuration this module reads. */
export type EventsConfig = z.output<z.ZodObject<typeof kafkaEnv>> & { NODE_ENV: z.output<typeof baseEnv.NODE_ENV> };

export interface EventsModuleOptions {
  /** The service name: the Kafka client id unless KAFKA_CLIENT_ID says otherwise. */
  service: string;
}

const EVENTS_MODULE_OPTIONS = Symbol('EVENTS_MODULE_OPTIONS');

/** Kafka when KAFKA_BROKERS is set; otherwise the in-process stand-in, which production refuses. */
export function createEventTransport(config: EventsConfig, service: string): EventTransport {
  if (config.KAFKA_BROKERS?.length) return new KafkaTransport(kafkaTransportOptions(config, service));
  if (config.NODE_ENV === 'production') {
    throw new Error('KAFKA_BROKERS is required in production: the in-process event transport is single-instance only');
  }
  const hub = embeddedHubPort();
  return hub ? new HubEventTransport(hub) : new InProcessTransport();
}

export function kafkaTransportOptions(config: EventsConfig, service: string): KafkaTransportOptions {
  return {
    brokers: config.KAFKA_BROKERS ?? [],
    clientId: config.KAFKA_CLIENT_ID ?? service,
    ssl: config.KAFKA_SSL,
    sasl: saslOptions(config),
    partitionsConsumedConcurrently: config.KAFKA_CONSUMER_CONCURRENCY,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
  };
}

function saslOptions(config: EventsConfig): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (!mechanism) return undefined;
  if (!username || !password) {
    throw new Error(`KAFKA_SASL_MECHANISM=${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
  }
  return { mechanism, username, password } as SASLOptions;
}

/** Connects at bootstrap and shuts down in order: relay and consumers finish their work, then the transport closes. */
@Injectable()
class EventsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('EventsModule');

  constructor(
    @Inject(EVENT_TRANSPORT) private readonly transport: EventTransport,
    private readonly relay: OutboxRelay,
    private readonly consumer: EventConsumer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.transport.connect();
    } catch (error) {
      // Events wait in the outbox; the relay reconnects when it publishes.
      this.logger.warn(`Event transport not reachable at start-up, will retry: ${errorText(error)}`);
    }
    await this.relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([this.relay.stop(), this.consumer.stop()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.disconnect();
  }
}

@Global()
@Module({})
export class EventsModule {
  static forRoot(options: EventsModuleOptions): DynamicModule {
    return {
      module: EventsModule,
      providers: [
        { provide: EVENTS_MODULE_OPTIONS, useValue: options },
        {
          provide: EVENT_TRANSPORT,
          inject: [APP_CONFIG, EVENTS_MODULE_OPTIONS],
          useFactory: (config: EventsConfig, { service }: EventsModuleOptions) => createEventTransport(config, service),
        },
        OutboxWriter,
        {
          provide: OutboxRelay,
          inject: [getDataSourceToken(), EVENT_TRANSPORT, APP_CONFIG],
          useFactory: (dataSource: DataSource, transport: EventTransport, config: EventsConfig) =>
            new OutboxRelay(dataSource, transport, {
              pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
              batchSize: config.OUTBOX_BATCH_SIZE,
              enabled: config.OUTBOX_RELAY_ENABLED,
            }),
        },
        {
          provide: EventConsumer,
          inject: [getDataSourceToken(), EVENT_TRANSPORT, APP_CONFIG],
          useFactory: (dataSource: DataSource, transport: EventTransport, config: EventsConfig) =>
            new EventConsumer(dataSource, transport, {
              maxRetries: config.KAFKA_CONSUMER_MAX_RETRIES,
              handlingDeadlineMs: config.KAFKA_CONSUMER_HANDLING_DEADLINE_MS,
              enabled: config.EVENT_CONSUMERS_ENABLED,
            }),
        },
        EventsLifecycle,
        PrivacyParticipant,
      ],
      exports: [EVENT_TRANSPORT, OutboxWriter, OutboxRelay, EventConsumer, PrivacyParticipant],
    };
  }
}
