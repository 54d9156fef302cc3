import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { register } from 'prom-client';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { ConfigModule } from '@multipult/config';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { DatabaseConfig, DatabaseModule, DatabaseModuleOptions } from './database.module';

// Real PostgreSQL (DATABASE_URL from the jest global setup); one throwaway database for this file,
// one fresh schema per test so every test starts from "the schema is missing".

class CreateWidgets1700000000001 implements MigrationInterface {
  name = 'CreateWidgets1700000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Unqualified on purpose: the search_path decides where the table goes.
    await queryRunner.query(`CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE widgets`);
  }
}

class AddWidgetColour1700000000002 implements MigrationInterface {
  name = 'AddWidgetColour1700000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE widgets ADD COLUMN colour text NOT NULL DEFAULT 'red'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE widgets DROP COLUMN colour`);
  }
}

describe('DatabaseModule', () => {
  let database: TestDatabase;
  /** A plain connection outside the module, to look at what the module did. */
  let inspector: Client;
  const open: TestingModule[] = [];
  let schemaCounter = 0;

  const nextSchema = () => `svc_${process.pid}_${(schemaCounter += 1)}`;

  beforeAll(async () => {
    database = await createTestDatabase('lib_database');
    inspector = new Client({ connectionString: database.url });
    await inspector.connect();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((moduleRef) => moduleRef.close()));
  });

  afterAll(async () => {
    await inspector?.end();
    await database?.drop();
  });

  function config(overrides: Partial<DatabaseConfig> = {}): DatabaseConfig {
    return {
      DATABASE_URL: database.url,
      DATABASE_POOL_MAX: 4,
      DATABASE_STATEMENT_TIMEOUT_MS: 15_000,
      DATABASE_SOCKET_TIMEOUT_MS: 45_000,
      DATABASE_STATEMENT_CACHE_SIZE: 0,
      DATABASE_MIGRATIONS_RUN: true,
      ...overrides,
    };
  }

  async function boot(options: Partial<DatabaseModuleOptions> & { schema: string }, overrides: Partial<DatabaseConfig> = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ NODE_ENV: 'test', ...config(overrides) }),
        DatabaseModule.forRoot({
          service: 'database-spec',
          entities: [],
          migrations: [CreateWidgets1700000000001],
          ...options,
        }),
      ],
    }).compile();
    open.push(moduleRef);
    await moduleRef.init();
    return { moduleRef, dataSource: moduleRef.get(DataSource) };
  }

  async function schemaExists(schema: string): Promise<boolean> {
    const { rowCount } = await inspector.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
    return rowCount === 1;
  }

  async function tableSchemas(table: string): Promise<string[]> {
    const { rows } = await inspector.query<{ table_schema: string }>(
      'SELECT table_schema FROM information_schema.tables WHERE table_name = $1 ORDER BY table_schema',
      [table],
    );
    return rows.map((row) => row.table_schema);
  }

  async function appliedMigrations(schema: string): Promise<string[]> {
    const { rows } = await inspector.query<{ name: string }>(
      `SELECT name FROM ${inspector.escapeIdentifier(schema)}.migrations ORDER BY id`,
    );
    return rows.map((row) => row.name);
  }

  function poolSample(metrics: string, pool: string, state: 'total' | 'idle' | 'waiting'): number | undefined {
    const line = metrics
      .split('\n')
      .find(
        (candidate) =>
          candidate.startsWith('db_pool_connections{') &&
          candidate.includes(`pool="${pool}"`) &&
          candidate.includes(`state="${state}"`),
      );
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('reports the pool in db_pool_connections of the default prom-client registry, live', async () => {
    const schema = nextSchema();
    const { dataSource } = await boot({ schema, service: 'metrics-spec' }, { DATABASE_POOL_MAX: 2 });

    // Five concurrent queries on a pool of two: two connections busy, three callers waiting.
    const slow = Array.from({ length: 5 }, () => dataSource.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.4)'));
    await waitFor(
      'three queries to wait for a connection',
      async () => poolSample(await register.metrics(), 'metrics-spec', 'waiting') === 3,
    );
    const during = await register.metrics();
    expect(during).toContain('# TYPE db_pool_connections gauge');
    expect(poolSample(during, 'metrics-spec', 'total')).toBe(2);

    const rows = (await Promise.all(slow)).flat() as { pid: number }[];
    // DATABASE_POOL_MAX is honoured: five queries, two backends.
    expect(new Set(rows.map((row) => row.pid)).size).toBe(2);

    const after = await register.metrics();
    expect(poolSample(after, 'metrics-spec', 'total')).toBe(2);
    expect(poolSample(after, 'metrics-spec', 'idle')).toBe(2);
    expect(poolSample(after, 'metrics-spec', 'waiting')).toBe(0);
  });

  it('creates the missing schema, migrates into <schema>.migrations and points search_path at the schema', async () => {
    const schema = nextSchema();
    expect(await schemaExists(schema)).toBe(false);

    const { dataSource } = await boot({ schema });

    expect(await schemaExists(schema)).toBe(true);
    expect(await appliedMigrations(schema)).toEqual(['CreateWidgets1700000000001']);
    const { rows: stray } = await inspector.query(`SELECT to_regclass('public.migrations') AS migrations`);
    expect(stray[0].migrations).toBeNull();

    // The unqualified CREATE TABLE of the migration landed in the service's schema, not in public.
    const widgetSchemas = await tableSchemas('widgets');
    expect(widgetSchemas).toContain(schema);
    expect(widgetSchemas).not.toContain('public');

    // Unqualified raw SQL from the application resolves to the same table.
    await dataSource.query('INSERT INTO widgets (name) VALUES ($1), ($2)', ['sprocket', 'gear']);
    expect(await dataSource.query('SELECT name FROM widgets ORDER BY id')).toEqual([{ name: 'sprocket' }, { name: 'gear' }]);
    const { rows: direct } = await inspector.query(
      `SELECT count(*)::int AS count FROM ${inspector.escapeIdentifier(schema)}.widgets`,
    );
    expect(direct[0].count).toBe(2);

    const [session] = await dataSource.query(
      `SELECT current_schema() AS schema,
              current_setting('search_path') AS search_path,
              current_setting('application_name') AS application_name,
              current_setting('statement_timeout') AS statement_timeout`,
    );
    expect(session).toEqual({
      schema,
      search_path: `"${schema}",public`,
      application_name: 'database-spec',
      statement_timeout: '15s',
    });
  });

  it('applies the statement timeout of DATABASE_STATEMENT_TIMEOUT_MS to every query', async () => {
    const { dataSource } = await boot({ schema: nextSchema() }, { DATABASE_STATEMENT_TIMEOUT_MS: 300 });

    const started = Date.now();
    await expect(dataSource.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps two services in one database apart, each in its own schema', async () => {
    const [first, second] = [nextSchema(), nextSchema()];
    const a = await boot({ schema: first, service: 'service-a' });
    const b = await boot({ schema: second, service: 'service-b' });

    await a.dataSource.query(`INSERT INTO widgets (name) VALUES ('from a')`);
    await b.dataSource.query(`INSERT INTO widgets (name) VALUES ('from b')`);

    expect(await tableSchemas('widgets')).toEqual(expect.arrayContaining([first, second]));
    expect(await a.dataSource.query('SELECT name FROM widgets')).toEqual([{ name: 'from a' }]);
    expect(await b.dataSource.query('SELECT name FROM widgets')).toEqual([{ name: 'from b' }]);
    expect(await appliedMigrations(first)).toEqual(['CreateWidgets1700000000001']);
    expect(await appliedMigrations(second)).toEqual(['CreateWidgets1700000000001']);
  });

  it('on restart runs only the migrations not yet applied', async () => {
    const schema = nextSchema();
    const first = await boot({ schema });
    await first.dataSource.query(`INSERT INTO widgets (name) VALUES ('kept')`);
    await first.moduleRef.close();

    const second = await boot({ schema, migrations: [CreateWidgets1700000000001, AddWidgetColour1700000000002] });

    expect(await appliedMigrations(schema)).toEqual(['CreateWidgets1700000000001', 'AddWidgetColour1700000000002']);
    expect(await second.dataSource.query('SELECT name, colour FROM widgets')).toEqual([{ name: 'kept', colour: 'red' }]);
    expect(await second.dataSource.showMigrations()).toBe(false);
  });

  it('with DATABASE_MIGRATIONS_RUN=false creates the schema but leaves the migrations pending', async () => {
    const schema = nextSchema();
    const { dataSource } = await boot({ schema }, { DATABASE_MIGRATIONS_RUN: false });

    expect(await schemaExists(schema)).toBe(true);
    expect(await dataSource.showMigrations()).toBe(true);
    expect(await tableSchemas('widgets')).not.toContain(schema);
    expect(await appliedMigrations(schema)).toEqual([]);

    // A release job (here: the same data source) can then apply them, into the service's schema.
    await dataSource.runMigrations();
    expect(await dataSource.showMigrations()).toBe(false);
    expect(await appliedMigrations(schema)).toEqual(['CreateWidgets1700000000001']);
    expect(await tableSchemas('widgets')).toContain(schema);
  });

  it('closes its connections when the application shuts down', async () => {
    const { moduleRef, dataSource } = await boot({ schema: nextSchema(), service: 'closing-spec' });
    await dataSource.query('SELECT 1');
    const connections = async () => {
      const { rows } = await inspector.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = 'closing-spec'`,
      );
      return rows[0].count;
    };
    expect(await connections()).toBeGreaterThan(0);

    await moduleRef.close();

    expect(dataSource.isInitialized).toBe(false);
    await waitFor('the backends of the closed pool to go away', async () => (await connections()) === 0);
  });

  // The embedded launcher runs several services, each with its own pool, in one process.
  it('reports every pool of the process, one `pool` label per service', async () => {
    const one = await boot({ schema: nextSchema(), service: 'pool-one-spec' });
    const two = await boot({ schema: nextSchema(), service: 'pool-two-spec' });
    await Promise.all([one.dataSource.query('SELECT 1'), two.dataSource.query('SELECT 1')]);

    const metrics = await register.metrics();
    expect(poolSample(metrics, 'pool-one-spec', 'total')).toBeGreaterThanOrEqual(1);
    expect(poolSample(metrics, 'pool-two-spec', 'total')).toBeGreaterThanOrEqual(1);
  });

  describe('with DATABASE_STATEMENT_CACHE_SIZE', () => {
    /** The protocol-level statements the service's one connection holds prepared. */
    const preparedOn = async (dataSource: DataSource) =>
      ((await dataSource.query('SELECT statement FROM pg_prepared_statements WHERE NOT from_sql ORDER BY prepare_time')) as { statement: string }[]).map(
        (row) => row.statement,
      );

    it('prepares a statement on its second run on a connection, up to the size, and leaves one-offs unnamed', async () => {
      const { dataSource } = await boot({ schema: nextSchema() }, { DATABASE_POOL_MAX: 1, DATABASE_STATEMENT_CACHE_SIZE: 2 });
      const run = (sql: string) => dataSource.query(sql, [1]);
      await run('SELECT $1::int AS once');
      await run('SELECT $1::int AS twice');
      await run('SELECT $1::int AS twice');
      expect(await preparedOn(dataSource)).toEqual(['SELECT $1::int AS twice']);
      expect(await run('SELECT $1::int AS twice')).toEqual([{ twice: 1 }]);

      for (const sql of ['SELECT $1::int AS second', 'SELECT $1::int AS second', 'SELECT $1::int AS third', 'SELECT $1::int AS third']) await run(sql);
      expect(await preparedOn(dataSource)).toEqual(['SELECT $1::int AS twice', 'SELECT $1::int AS second']);
      expect(await run('SELECT $1::int AS third')).toEqual([{ third: 1 }]);
    });

    it('is off at 0', async () => {
      const { dataSource } = await boot({ schema: nextSchema() }, { DATABASE_POOL_MAX: 1 });
      for (let run = 0; run < 3; run += 1) await dataSource.query('SELECT $1::int AS repeated', [run]);
      expect(await preparedOn(dataSource)).toEqual([]);
    });

    it('prepares a statement again once a migration changed what it returns', async () => {
      const schema = nextSchema();
      const { dataSource } = await boot({ schema }, { DATABASE_POOL_MAX: 1, DATABASE_STATEMENT_CACHE_SIZE: 10 });
      await dataSource.query(`INSERT INTO widgets (name) VALUES ('gear')`);
      const widgets = () => dataSource.query('SELECT * FROM widgets WHERE id > $1', [0]);
      await widgets();
      expect(await widgets()).toEqual([{ id: 1, name: 'gear' }]);

      await inspector.query(`ALTER TABLE ${inspector.escapeIdentifier(schema)}.widgets ADD COLUMN colour text NOT NULL DEFAULT 'red'`);

      // The server refuses the old plan once (a rolling deploy meets this right after a migration); the next call prepares anew.
      await expect(widgets()).rejects.toThrow('cached plan must not change result type');
      expect(await widgets()).toEqual([{ id: 1, name: 'gear', colour: 'red' }]);
    });
  });
});
