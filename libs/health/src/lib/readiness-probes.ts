import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '@multipult/config';
import { FAST_STORE, FastStore } from '@multipult/redis';

export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A readiness check: resolves to an `up` or `down` result, never throws. */
export interface ReadinessProbe {
  check(): Promise<HealthIndicatorResult>;
}

@Injectable()
export class DatabaseProbe implements ReadinessProbe {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const database = this.indicators.check('database');
    try {
      await withTimeout(this.dataSource.query('SELECT 1'), DEFAULT_CHECK_TIMEOUT_MS, 'database ping');
      const pending = await withTimeout(this.dataSource.showMigrations(), DEFAULT_CHECK_TIMEOUT_MS, 'migration check');
      return pending ? database.down({ message: 'migrations pending' }) : database.up({ migrations: 'applied' });
    } catch (error) {
      return database.down({ message: (error as Error).message });
    }
  }
}

@Injectable()
export class FastStoreProbe implements ReadinessProbe {
  constructor(
    @Inject(FAST_STORE) private readonly store: FastStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const redis = this.indicators.check('redis');
    try {
      await withTimeout(this.store.ping(), DEFAULT_CHECK_TIMEOUT_MS, 'redis ping');
      return redis.up({ mode: this.store.kind });
    } catch (error) {
      return redis.down({ message: (error as Error).message });
    }
  }
}

/** Asks the cluster for its metadata through a short-lived admin client; in-process mode is always up. */
@Injectable()
export class KafkaProbe implements ReadinessProbe {
  private readonly kafka?: Kafka;

  constructor(
    @Optional() @Inject(APP_CONFIG) config: { KAFKA_BROKERS?: string[] } | undefined,
    private readonly indicators: HealthIndicatorService,
  ) {
    if (config?.KAFKA_BROKERS?.length) {
      this.kafka = new Kafka({
        clientId: 'readiness-probe',
        brokers: config.KAFKA_BROKERS,
        connectionTimeout: DEFAULT_CHECK_TIMEOUT_MS,
        // A broker that accepts connections but never answers must not hold the probe for 30 s.
        requestTimeout: DEFAULT_CHECK_TIMEOUT_MS,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
    }
  }

  async check(): Promise<HealthIndicatorResult> {
    const kafka = this.indicators.check('kafka');
    if (!this.kafka) return kafka.up({ mode: 'in-process' });
    const admin = this.kafka.admin();
    try {
      const cluster = await withTimeout(
        admin.connect().then(() => admin.describeCluster()),
        DEFAULT_CHECK_TIMEOUT_MS,
        'kafka metadata',
      );
      return kafka.up({ brokers: cluster.brokers.length });
    } catch (error) {
      return kafka.down({ message: (error as Error).message });
    } finally {
      // Not awaited: disconnecting waits for in-flight requests, which the deadline already gave up on.
      void admin.disconnect().catch(() => undefined);
    }
  }
}
