import { bootstrapService } from '@multipult/graphql/bootstrap';

/**
 * Runs the gateway when this file is the entry point (node, or a worker thread of the embedded
 * launcher); the app loads only after tracing started (see bootstrapService).
 */
export const start = bootstrapService(module, 'gateway', async () => {
  const [{ AppModule }, { gatewayConfigSchema }, { configureGatewayApp }] = await Promise.all([
    import('./app.module.js'),
    import('./config.js'),
    import('./edge/http-hardening.js'),
  ]);
  return {
    configSchema: gatewayConfigSchema,
    appModule: (config) => AppModule.forRoot(config),
    appOptions: (config) => ({ bodyLimit: config.BODY_LIMIT, trustProxy: config.TRUST_PROXY }),
    configure: configureGatewayApp,
  };
});
