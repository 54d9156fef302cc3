import { SubgraphTestApp, startSubgraphTestApp } from '@multipult/testing';
import { AppModule, NOTIFICATIONS_SERVICE } from '../app.module';
import { NotificationsConfig, notificationsConfigSchema } from '../config';

export type NotificationsTestApp = SubgraphTestApp<NotificationsConfig>;

/** Notifications for service-level specs (see startSubgraphTestApp); `env` overrides the test values (retry timings, SMTP). */
export function startNotificationsTestApp(name: string, env: Record<string, string> = {}): Promise<NotificationsTestApp> {
  return startSubgraphTestApp({ service: NOTIFICATIONS_SERVICE, name, configSchema: notificationsConfigSchema, appModule: AppModule.forRoot, env });
}
