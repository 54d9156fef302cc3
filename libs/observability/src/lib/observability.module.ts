import { DynamicModule, Module, OnApplicationShutdown } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pinoOptions } from './logger';
import { startDefaultMetrics } from './metrics';
import { RequestContext } from './request-context';
import { stopTracing } from './tracing';

const QUIET_PATHS = new Set(['/health/live', '/health/ready']);

@Module({})
export class ObservabilityModule implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await stopTracing();
  }

  /**
   * JSON logs with request/trace/user/tenant ids and the process metrics (served on METRICS_PORT by
   * startMetricsServer, not on the public port). The request context itself
   * is opened by requestContextMiddleware, which the app registers first (see configureServiceApp).
   */
  static forRoot(options: { service: string; logLevel: string }): DynamicModule {
    startDefaultMetrics(options.service);
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            ...pinoOptions(options.service, options.logLevel),
            genReqId: () => RequestContext.current()?.requestId ?? 'none',
            autoLogging: { ignore: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]) },
            customLogLevel: (_req, res, error) =>
              error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            serializers: {
              // Signed download links carry their credential in `token`: never in the logs.
              req: (req) => ({ method: req.method, url: (req.url as string | undefined)?.replace(/([?&]token=)[^&]*/g, '$1[redacted]') }),
              res: (res) => ({ statusCode: res.statusCode }),
            },
          },
        }),
      ],
    };
  }
}
