import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloFederationDriver, ApolloFederationDriverConfig } from '@nestjs/apollo';
import { ACCESS_TOKEN_VERIFIER, AccessTokenVerifier, AuthModule, AuthModuleOptions, startAuthentication } from '@multipult/auth';
import { ConfigModule } from '@multipult/config';
import { DatabaseModule, DatabaseModuleOptions } from '@multipult/database';
import { EventsModule, eventEntities, eventMigrations } from '@multipult/events';
import { subgraphGraphQLOptions } from '@multipult/graphql';
import { DatabaseProbe, FastStoreProbe, HealthModule, KafkaProbe } from '@multipult/health';
import { JobsModule } from '@multipult/jobs';
import { ObservabilityModule } from '@multipult/observability';
import { RedisModule } from '@multipult/redis';
import { serviceEntry } from '@multipult/registry';
import { EventRetention } from './event-retention';

/** The part of a subgraph's validated config (see defineSubgraphConfig) the kit reads itself. */
export interface SubgraphKitConfig {
  NODE_ENV: 'development' | 'test' | 'production';
  LOG_LEVEL: string;
  SHUTDOWN_GRACE_SECONDS: number;
  METRICS_OPERATION_NAMES: string[];
}

type ModuleList = Extract<DatabaseModuleOptions['entities'], unknown[]>;

export interface SubgraphModuleOptions {
  /** The service's name in the registry (libs/registry/src/services.json). */
  service: string;
  /** The validated configuration (loadConfig of the service's defineSubgraphConfig schema). */
  config: SubgraphKitConfig;
  /** The service's own entities and migrations; the event tables' are added here. */
  entities: ModuleList;
  migrations: ModuleList;
  /** The PostgreSQL schema; default: the service's schema in the registry (tests give their own). */
  schema?: string;
  /** `pubSub: true` also provides PUB_SUB (for services that fan messages out across instances). */
  redis?: { pubSub?: boolean };
  /** How access tokens are verified; default: the issuer's JWKS at AUTH_JWKS_URL. */
  auth?: AuthModuleOptions;
  /** More platform modules the service shares with its feature modules (imported and exported). */
  imports?: NonNullable<ModuleMetadata['imports']>;
}

/**
 * Everything a subgraph runs on, so its AppModule lists only its feature modules: the validated
 * config, logging/metrics, PostgreSQL in the service's schema (with the outbox and inbox tables and
 * migrations run at start-up), Redis (or the in-process stand-in), events (outbox relay, consumers),
 * durable jobs (JobQueue; the event tables' retention job among them),
 * token verification with the global guard, the federated GraphQL endpoint at /graphql, and
 * /health/live + /health/ready (database, fast store, Kafka) with graceful shutdown in production.
 */
/** Where SubgraphModule.forRoot leaves its database options on the module it returns, for `migrate`. */
const SUBGRAPH_DATABASE = Symbol('subgraphDatabase');

/**
 * The database options of the subgraph an app module is built on: what `node main.js migrate`
 * migrates, read from the module description without instantiating anything.
 */
export function subgraphDatabaseOf(module: DynamicModule): DatabaseModuleOptions | undefined {
  const found = (module as DynamicModule & { [SUBGRAPH_DATABASE]?: DatabaseModuleOptions })[SUBGRAPH_DATABASE];
  if (found) return found;
  for (const imported of module.imports ?? []) {
    if (imported && typeof imported === 'object' && 'module' in imported) {
      const nested = subgraphDatabaseOf(imported as DynamicModule);
      if (nested) return nested;
    }
  }
  return undefined;
}

@Module({})
export class SubgraphModule {
  static forRoot(options: SubgraphModuleOptions): DynamicModule {
    const { service, config } = options;
    const production = config.NODE_ENV === 'production';
    const extra = options.imports ?? [];
    const database: DatabaseModuleOptions = {
      service,
      schema: options.schema ?? serviceEntry(service).schema,
      entities: [...eventEntities, ...options.entities],
      migrations: [...eventMigrations, ...options.migrations],
    };
    const subgraph: DynamicModule = {
      module: SubgraphModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service, logLevel: config.LOG_LEVEL }),
        DatabaseModule.forRoot(database),
        RedisModule.forRoot(options.redis),
        EventsModule.forRoot({ service }),
        AuthModule.forRoot(options.auth),
        GraphQLModule.forRootAsync<ApolloFederationDriverConfig>({
          driver: ApolloFederationDriver,
          inject: [ACCESS_TOKEN_VERIFIER],
          useFactory: (verifier: AccessTokenVerifier) =>
            subgraphGraphQLOptions({
              production,
              metricsOperationNames: config.METRICS_OPERATION_NAMES,
              // Field resolvers and `_entities` run without the guard: their principal is started with the request.
              startRequest: (req) => startAuthentication(req, verifier),
            }),
        }),
        HealthModule.forRoot({
          probes: [DatabaseProbe, FastStoreProbe, KafkaProbe],
          gracefulShutdownTimeoutMs: production ? config.SHUTDOWN_GRACE_SECONDS * 1000 : 0,
        }),
        JobsModule.forRoot({ service }),
        ...extra,
      ],
      providers: [EventRetention],
      exports: extra as NonNullable<ModuleMetadata['exports']>,
    };
    return Object.assign(subgraph, { [SUBGRAPH_DATABASE]: database });
  }
}
