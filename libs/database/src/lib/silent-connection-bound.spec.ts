import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TcpProxy, TestDatabase, createTestDatabase, startTcpProxy } from '@multipult/testing';
import { DatabaseConfig, dataSourceOptions } from './database.module';

// Real PostgreSQL behind a TCP proxy that can go silent: a partition that drops packets, no reset.

const SOCKET_TIMEOUT_MS = 1_500;

describe('a PostgreSQL connection gone silent', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let dataSource: DataSource;

  const backendPid = async () => ((await dataSource.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[])[0].pid;

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

  it('fails its statement once the server has been silent for the socket timeout, and the pool serves again when the network is back', async () => {
    const before = await backendPid();
    proxy.cut('silence');
    const started = Date.now();
    await expect(dataSource.query('SELECT $1::int AS one', [1])).rejects.toThrow('Connection terminated unexpectedly');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(SOCKET_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(SOCKET_TIMEOUT_MS + 3_000);

    proxy.restore();
    const after = await backendPid();
    expect(after).not.toBe(before);
    expect(await dataSource.query('SELECT $1::int AS one', [1])).toEqual([{ one: 1 }]);
  });

  it('leaves an idle connection open however long it waits', async () => {
    const before = await backendPid();
    await sleep(SOCKET_TIMEOUT_MS * 2);
    expect(await backendPid()).toBe(before);
  });

  it('is what ends the wait: a plain client keeps waiting through the silence, and gets its answer once the network is back', async () => {
    const plain = new Client({ connectionString: proxiedUrl });
    await plain.connect();
    try {
      proxy.cut('silence');
      let answered = false;
      const pending = plain.query('SELECT 1 AS one').then((result) => ((answered = true), result.rows));
      await sleep(SOCKET_TIMEOUT_MS * 2);
      expect(answered).toBe(false);
      proxy.restore();
      expect(await pending).toEqual([{ one: 1 }]);
    } finally {
      await plain.end();
    }
  });
});
