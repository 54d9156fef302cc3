import { Client } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { TcpProxy, TestDatabase, createTestDatabase, startTcpProxy } from '@multipult/testing';
import { DatabaseConfig, dataSourceOptions } from './database.module';

// Real PostgreSQL behind a TCP proxy that can go silent: a partition that drops packets, no reset.

const SOCKET_TIMEOUT_MS = 1_500;

describe('a PostgreSQL connection gone silent', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let dataSource: DataSource;

  const backendPidOf = async (runner: QueryRunner) => ((await runner.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[])[0].pid;

  beforeAll(async () => {
    database = await createTestDatabase('lib_database_silence');
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.host = `127.0.0.1:${proxy.port}`;
    proxiedUrl = url.toString();
    const config: DatabaseConfig = {
      DATABASE_URL: proxiedUrl,
      DATABASE_POOL_MAX: 2,
      DATABASE_STATEMENT_TIMEOUT_MS: 15_000,
      // Below what the config allows (35 s), to keep the test short; the mechanism is the same.
      DATABASE_SOCKET_TIMEOUT_MS: SOCKET_TIMEOUT_MS,
      DATABASE_STATEMENT_CACHE_SIZE: 100,
      DATABASE_MIGRATIONS_RUN: false,
    };
    dataSource = await new DataSource(dataSourceOptions(config, { schema: 'public', service: 'silence-spec', entities: [], migrations: [] })).initialize();
  });

  afterEach(() => proxy.restore());

  afterAll(async () => {
    await dataSource?.destroy();
    await proxy?.close();
    await database?.drop();
  });

  it('fails its statement once the server has been silent for the socket timeout, leaves an idle connection open through it, and serves again when the network is back', async () => {
    const [idle, busy] = [dataSource.createQueryRunner(), dataSource.createQueryRunner()];
    try {
      const idleBefore = await backendPidOf(idle);
      const busyBefore = await backendPidOf(busy);
      proxy.cut('silence');
      const started = Date.now();
      await expect(busy.query('SELECT $1::int AS one', [1])).rejects.toThrow('Connection terminated unexpectedly');
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(SOCKET_TIMEOUT_MS - 50);
      expect(waited).toBeLessThan(SOCKET_TIMEOUT_MS + 3_000);

      proxy.restore();
      // Idle through the same silence, longer than the socket timeout: still the same session.
      expect(await backendPidOf(idle)).toBe(idleBefore);
      await busy.release();
      // The closed connection was replaced (the idle one is still held).
      const replacement = dataSource.createQueryRunner();
      try {
        expect(await backendPidOf(replacement)).not.toBe(busyBefore);
        expect(await replacement.query('SELECT $1::int AS one', [1])).toEqual([{ one: 1 }]);
      } finally {
        await replacement.release();
      }
    } finally {
      await idle.release();
      if (!busy.isReleased) await busy.release();
    }
  });

  it('is what ends the wait: a plain client keeps waiting through a silence the bounded pool gives up on, and gets its answer once the network is back', async () => {
    const plain = new Client({ connectionString: proxiedUrl });
    await plain.connect();
    try {
      proxy.cut('silence');
      let answered = false;
      const pending = plain.query('SELECT 1 AS one').then((result) => ((answered = true), result.rows));
      await expect(dataSource.query('SELECT 1 AS one')).rejects.toThrow('Connection terminated unexpectedly');
      expect(answered).toBe(false);
      proxy.restore();
      expect(await pending).toEqual([{ one: 1 }]);
    } finally {
      await plain.end();
    }
  });
});
