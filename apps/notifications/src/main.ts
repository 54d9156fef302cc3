import './instrumentation';
import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { loadConfig } from '@multipult/config';
import { createServiceApp, listenService, runServiceMain } from '@multipult/graphql';
import { NOTIFICATIONS_SERVICE, AppModule } from './app.module';
import { notificationsConfigSchema } from './config';

/** Starts the notifications subgraph; the embedded launcher calls this to run every service in one process. */
export async function start(env: Record<string, string | undefined> = process.env): Promise<INestApplication> {
  const config = loadConfig(notificationsConfigSchema, env);
  const app = await createServiceApp(AppModule.forRoot(config), { bodyLimit: config.BODY_LIMIT });
  await listenService(app, config.PORT, config.HOST);
  new Logger('Bootstrap').log(`notifications subgraph listening on http://${config.HOST}:${config.PORT}/graphql`);
  return app;
}

if (require.main === module) runServiceMain(NOTIFICATIONS_SERVICE, () => start());
