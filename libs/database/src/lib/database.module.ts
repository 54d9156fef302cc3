import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource, MixedList } from 'typeorm';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { APP_CONFIG } from '@multipult/config';
import { gauge } from '@multipult/observability';
import { guardAgainstLostPostgresConnections } from './lost-connection-guard';
import { QueryMetricsLogger } from './query-logger';
import { closingSilentConnections } from './silent-connection-bound';
import { statementCachingClient } from './statement-cache';

export interface DatabaseConfig {
  DATABASE_URL: string;
  DATABASE_POOL_MAX: number;
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  DATABASE_SOCKET_TIMEOUT_MS: number;
  DATABASE_STATEMENT_CACHE_SIZE: number;
  DATABASE_MIGRATIONS_RUN: boolean;
}

export interface DatabaseModuleOptions {
  /** The PostgreSQL schema this service owns; every table of the service lives in it. */
  schema: string;
  service: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
}

/**
 * TCP keepalive on every connection: a NAT or load balancer on the path keeps an idle pooled
 * connection's mapping, and one whose peer is gone is found and dropped while idle.
 */
export const POSTGRES_KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

/** The pg Client class of a service's pools: statements prepared per connection when cached, silent connections closed. */
function postgresClientClass(config: Pick<DatabaseConfig, 'DATABASE_SOCKET_TIMEOUT_MS' | 'DATABASE_STATEMENT_CACHE_SIZE'>): typeof Client {
  const base = config.DATABASE_STATEMENT_CACHE_SIZE > 0 ? statementCachingClient(config.DATABASE_STATEMENT_CACHE_SIZE) : Client;
  return closingSilentConnections(base, config.DATABASE_SOCKET_TIMEOUT_MS);
}

export function dataSourceOptions(config: DatabaseConfig, options: DatabaseModuleOptions): PostgresConnectionOptions {
  return {
    type: 'postgres',
    url: config.DATABASE_URL,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsRun: config.DATABASE_MIGRATIONS_RUN,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    applicationName: options.service,
    logger: new QueryMetricsLogger(options.service),
    maxQueryExecutionTime: 1_000,
    extra: {
      max: config.DATABASE_POOL_MAX,
      statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
      connectionTimeoutMillis: 5_000,
      ...POSTGRES_KEEPALIVE,
      // Raw SQL (migrations, outbox relay) then needs no schema prefix.
      options: `-c search_path="${options.schema}",public`,
      Client: postgresClientClass(config),
    },
  };
}

/** The schema must exist before TypeORM creates its migrations table inside it. */
export async function ensureSchema(url: string, schema: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * Every pool of the process (tests and tools open several, possibly through different copies of
 * this lib, hence the global symbol); the one gauge reports each while it is open.
 */
const POOLS = Symbol.for('multipult.databasePools');

function registerPoolMetrics(dataSource: DataSource, service: string): void {
  const registry = globalThis as { [POOLS]?: Map<string, DataSource> };
  const pools = (registry[POOLS] ??= new Map<string, DataSource>());
  pools.set(service, dataSource);
  gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['pool', 'state'] as const,
    collect() {
      this.reset();
      for (const [name, source] of pools) {
        const pool = (source.driver as unknown as { master?: PgPool }).master;
        if (!source.isInitialized || !pool) {
          pools.delete(name);
          continue;
        }
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });
}

/** TypeORM over PostgreSQL in the service's own schema, migrations at start-up, pool metrics. */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: DatabaseConfig) => dataSourceOptions(config, options),
          dataSourceFactory: async (typeormOptions) => {
            const postgresOptions = typeormOptions as PostgresConnectionOptions;
            await ensureSchema(postgresOptions.url as string, options.schema);
            guardAgainstLostPostgresConnections((message) => new Logger('Database').error(message));
            const dataSource = await new DataSource(postgresOptions).initialize();
            registerPoolMetrics(dataSource, options.service);
            return dataSource;
          },
        }),
      ],
    };
  }
}

/**
 * Applies the service's pending migrations and closes, for a release step that runs them once
 * (the Helm chart's pre-install/pre-upgrade Job) instead of in every replica at start-up.
 * Answers the names of the migrations it applied (none when the schema is current).
 */
export async function runDatabaseMigrations(config: DatabaseConfig, options: DatabaseModuleOptions): Promise<string[]> {
  // Migrations change the tables under the statements they run: nothing is kept prepared across them.
  const serviceOptions = dataSourceOptions({ ...config, DATABASE_STATEMENT_CACHE_SIZE: 0 }, options);
  await ensureSchema(config.DATABASE_URL, options.schema);
  const dataSource = await new DataSource({ ...serviceOptions, migrationsRun: false, extra: { ...serviceOptions.extra, max: 1 } }).initialize();
  try {
    return (await dataSource.runMigrations({ transaction: 'each' })).map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
