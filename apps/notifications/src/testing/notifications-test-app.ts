import { randomBytes } from 'node:crypto';
import { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { loadConfig } from '@multipult/config';
import { serviceEntry } from '@multipult/registry';
import { TestDatabase, createTestDatabase } from '@multipult/testing';
import { AppModule, NOTIFICATIONS_SERVICE } from '../app.module';
import { NotificationsConfig, notificationsConfigSchema } from '../config';

/** The whole notifications app module, initialised (not listening), on a database of its own. */
export interface NotificationsTestApp {
  config: NotificationsConfig;
  dataSource: DataSource;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

/**
 * Builds notifications' AppModule as main.ts does against the real PostgreSQL and Redis of the
 * jest global setup, for service-level specs; events travel in process. `env` overrides the test
 * values (retry timings, SMTP).
 */
export async function startNotificationsTestApp(name: string, env: Record<string, string> = {}): Promise<NotificationsTestApp> {
  const database: TestDatabase = await createTestDatabase(`notifications_${name}`);
  let app: INestApplication | undefined;
  try {
    const config = loadConfig(notificationsConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: `test:notifications-${name}:${randomBytes(4).toString('hex')}:`,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      ...serviceEntry(NOTIFICATIONS_SERVICE).testEnv,
      ...env,
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const started = app;
    return {
      config,
      dataSource: started.get<DataSource>(getDataSourceToken()),
      get: (type) => started.get(type),
      close: async () => {
        await started.close();
        await database.drop();
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.drop();
    throw error;
  }
}
