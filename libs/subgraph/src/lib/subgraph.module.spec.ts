import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { Field, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { Column, DataSource, Entity, MigrationInterface, PrimaryGeneratedColumn, QueryRunner } from 'typeorm';
import { z } from 'zod';
import { Public } from '@multipult/auth';
import { ConfigError, loadConfig } from '@multipult/config';
import { TestDatabase, createTestDatabase, eventually, freePort, graphqlData } from '@multipult/testing';
import { bootstrapSubgraph } from '../bootstrap';
import { defineSubgraphConfig } from './subgraph-config';
import { SubgraphModule } from './subgraph.module';

// A tiny service on the kit against the real PostgreSQL, Redis and Kafka of the jest global setup.
// It borrows the registry entry of `content` (schema, port default, verifies tokens) in a
// throwaway database.

@Entity('widgets')
class Widget {
  @PrimaryGeneratedColumn()
  id: number;

  @Column()
  name: string;
}

class CreateWidgets1800000000001 implements MigrationInterface {
  name = 'CreateWidgets1800000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)`);
    await queryRunner.query(`INSERT INTO widgets (name) VALUES ('first'), ('second')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE widgets`);
  }
}

@ObjectType()
class WidgetStats {
  @Field(() => Int)
  count: number;
}

@Resolver()
class WidgetsResolver {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Public()
  @Query(() => WidgetStats)
  async widgetStats(): Promise<WidgetStats> {
    return { count: await this.dataSource.getRepository(Widget).count() };
  }
}

@Module({ providers: [WidgetsResolver] })
class WidgetsModule {}

const widgetsConfigSchema = defineSubgraphConfig(
  'content',
  { WIDGET_LIMIT: z.coerce.number().int().min(1).default(10) },
  (config, ctx) => {
    if (config.NODE_ENV === 'production' && config.WIDGET_LIMIT > 5) {
      ctx.addIssue({ code: 'custom', path: ['WIDGET_LIMIT'], message: 'must be at most 5 in production' });
    }
  },
);

@Module({})
class WidgetsAppModule {
  static forRoot(config: z.output<typeof widgetsConfigSchema>): DynamicModule {
    return {
      module: WidgetsAppModule,
      imports: [
        SubgraphModule.forRoot({ service: 'content', config, entities: [Widget], migrations: [CreateWidgets1800000000001] }),
        WidgetsModule,
      ],
    };
  }
}

/** Started by the tests, never as the process entry (jest makes the spec file `require.main`). */
const notTheEntryPoint = {} as NodeModule;

const startWidgets = bootstrapSubgraph(notTheEntryPoint, 'content', async () => ({
  configSchema: widgetsConfigSchema,
  AppModule: WidgetsAppModule,
}));

describe('SubgraphModule (a service on the kit)', () => {
  let database: TestDatabase;
  let app: INestApplication | undefined;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase('lib_subgraph');
    const port = await freePort();
    app = await startWidgets({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `test:subgraph:${process.pid}:`,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      // The retention job runs every second here, on real job polling.
      RETENTION_INTERVAL_SECONDS: '1',
      JOBS_POLL_INTERVAL_SECONDS: '0.5',
    });
    url = `http://127.0.0.1:${port}`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('runs the event tables and the service migrations in the service schema from the registry', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'content' ORDER BY table_name`,
      );
      expect(rows.map((row) => row.table_name)).toEqual(expect.arrayContaining(['inbox', 'migrations', 'outbox', 'widgets']));
      const { rows: migrations } = await client.query<{ name: string }>(`SELECT name FROM content.migrations ORDER BY id`);
      expect(migrations.map((row) => row.name)).toEqual([
        'CreateEventTables1732400000000',
        'AddEventRetentionIndexes1764700000000',
        'CreateWidgets1800000000001',
      ]);
    } finally {
      await client.end();
    }
  });

  it('deletes sent outbox rows past OUTBOX_RETENTION_DAYS (7) and inbox rows past INBOX_RETENTION_DAYS (30), in batches, and keeps younger ones', async () => {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const outboxRow = (publishedDaysAgo: number) =>
        client.query(
          `INSERT INTO content.outbox (id, topic, message_key, event_type, envelope, headers, created_at, published_at)
           VALUES (gen_random_uuid(), 'retention-spec', 'key', 'retention.spec', '{}', '{}',
                   now() - make_interval(days => $1::int + 1), now() - make_interval(days => $1::int))
           RETURNING id`,
          [publishedDaysAgo],
        ).then(({ rows: [row] }) => row.id as string);
      const oldSent = await outboxRow(8);
      const youngSent = await outboxRow(6);
      // More old inbox rows than one batch deletes.
      await client.query(
        `INSERT INTO content.inbox (consumer_group, event_id, processed_at)
         SELECT 'retention-spec', gen_random_uuid(), now() - interval '31 days' FROM generate_series(1, 2500)`,
      );
      await client.query(`INSERT INTO content.inbox (consumer_group, event_id, processed_at) VALUES ('retention-spec-young', gen_random_uuid(), now() - interval '29 days')`);

      const remaining = async () => {
        const { rows } = await client.query<{ outbox: string[]; inbox: string[] }>(
          `SELECT (SELECT coalesce(array_agg(id::text), '{}') FROM content.outbox WHERE topic = 'retention-spec') AS outbox,
                  (SELECT coalesce(array_agg(DISTINCT consumer_group), '{}') FROM content.inbox WHERE consumer_group LIKE 'retention-spec%') AS inbox`,
        );
        return rows[0];
      };
      expect((await remaining()).outbox).toHaveLength(2);
      const after = await eventually('the retention job', async () => {
        const rows = await remaining();
        return rows.outbox.length === 1 && rows.inbox.length === 1 && rows;
      });
      expect(after.outbox).toEqual([youngSent]);
      expect(after.outbox).not.toContain(oldSent);
      expect(after.inbox).toEqual(['retention-spec-young']);
    } finally {
      await client.end();
    }
  });

  it('answers readiness with every dependency up', async () => {
    const response = await fetch(`${url}/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; info: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.info).length).toBeGreaterThanOrEqual(3);
  });

  it('answers a GraphQL query from its feature module', async () => {
    const data = await graphqlData<{ widgetStats: { count: number } }>(`${url}/graphql`, `{ widgetStats { count } }`);
    expect(data.widgetStats.count).toBe(2);
  });
});

describe('defineSubgraphConfig', () => {
  const required = { DATABASE_URL: 'postgres://db/app', AUTH_JWKS_URL: 'http://auth:4001/.well-known/jwks.json' };

  it('defaults PORT from the registry and keeps the service keys', () => {
    const config = loadConfig(widgetsConfigSchema, required);
    expect(config).toMatchObject({ PORT: 4002, BODY_LIMIT: '2mb', WIDGET_LIMIT: 10, NODE_ENV: 'development' });
  });

  it('names every wrong variable, shared and the service own', () => {
    const attempt = () => loadConfig(widgetsConfigSchema, { DATABASE_URL: 'mysql://db/app', PORT: 'eighty', WIDGET_LIMIT: '0' });
    expect(attempt).toThrow(ConfigError);
    for (const problem of ['DATABASE_URL must be a URL', 'AUTH_JWKS_URL is required', 'PORT ', 'WIDGET_LIMIT ']) {
      expect(attempt).toThrow(problem);
    }
  });

  it('applies the production checks, then the service refinements', () => {
    expect(() => loadConfig(widgetsConfigSchema, { ...required, NODE_ENV: 'production' })).toThrow(
      'Invalid configuration: REDIS_URL is required in production; KAFKA_BROKERS is required in production; WIDGET_LIMIT must be at most 5 in production',
    );
  });

  it('needs no token verification variables for the service that issues tokens', () => {
    const schema = defineSubgraphConfig('auth', {});
    expect(loadConfig(schema, { DATABASE_URL: 'postgres://db/app' })).toMatchObject({ PORT: 4001 });
  });

  it('lets a start-up fail with the ConfigError naming the variable', async () => {
    await expect(startWidgets({ ...required, PORT: 'eighty' })).rejects.toThrow(/^Invalid configuration: PORT /);
  });
});
