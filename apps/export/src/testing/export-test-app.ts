import { configureServiceApp } from '@multipult/graphql';
import { SubgraphTestApp, startSubgraphTestApp } from '@multipult/testing';
import { AppModule } from '../app.module';
import { ExportConfig, exportConfigSchema } from '../config';

export type ExportTestApp = SubgraphTestApp<ExportConfig>;

/**
 * The export service for service-level specs (see startSubgraphTestApp); `listen` also serves its
 * HTTP routes (the JIRA webhook) on a loopback port, configured as main.ts does.
 */
export function startExportTestApp(name: string, env: Record<string, string> = {}, options: { listen?: boolean } = {}): Promise<ExportTestApp> {
  return startSubgraphTestApp({
    service: 'export',
    name,
    configSchema: exportConfigSchema,
    appModule: AppModule.forRoot,
    env,
    listen: options.listen ? (app, config) => configureServiceApp(app, { bodyLimit: config.BODY_LIMIT }) : undefined,
  });
}
