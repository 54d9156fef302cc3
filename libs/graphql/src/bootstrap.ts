import type { DynamicModule, INestApplication } from '@nestjs/common';
import { isMainThread } from 'node:worker_threads';
import type { z } from 'zod';
import { startServiceTracing } from '@multipult/observability/tracing';
import type { ServiceAppOptions } from './lib/service-app';

// Deliberately light: an entry point imports only this file, so tracing starts before NestJS,
// express and http load (the app and the Nest machinery are imported lazily by `start`).

export type ServiceEnv = Record<string, string | undefined>;

/** The variables every service's config has that starting it reads. */
export interface ListenConfig {
  PORT: number;
  HOST: string;
  METRICS_PORT: number;
}

export type ServiceConfigSchema = z.ZodObject & z.ZodType<ListenConfig>;

/** What an entry point loads (after tracing started) to run a service. */
export interface ServiceDefinition<S extends ServiceConfigSchema> {
  configSchema: S;
  appModule: (config: z.output<S>) => DynamicModule;
  appOptions: (config: z.output<S>) => ServiceAppOptions;
  /** Applied after the app is created and before it listens (e.g. helmet, CORS). */
  configure?: (app: INestApplication, config: z.output<S>) => void;
  /** How the start-up line names it ("auth subgraph"); default: the service name. */
  title?: string;
}

/** Loads the configuration from `env`, starts the service and answers once it listens. */
export type ServiceStart = (env?: ServiceEnv) => Promise<INestApplication>;

/**
 * The one start-up path of every service: tracing named by OTEL_SERVICE_NAME (default `service`),
 * then the config (a ConfigError stops it with one line naming every wrong variable), the Nest app
 * (createServiceApp), listen, a log line. Runs at once when `main` is the process's (or worker
 * thread's) entry module, as `node main.js` and the embedded launcher do; tests call the answer.
 */
export function bootstrapService<S extends ServiceConfigSchema>(
  main: NodeModule,
  service: string,
  load: () => Promise<ServiceDefinition<S>>,
  commands: ServiceCommands = {},
): ServiceStart {
  const start: ServiceStart = async (env = process.env) => {
    startServiceTracing(service, env);
    const [definition, { launchService }] = await Promise.all([load(), import('./lib/service-app.js')]);
    return launchService(service, definition, env);
  };
  if (require.main === main) {
    // A worker thread of the embedded launcher sees its parent's arguments: only a process takes a command.
    const command = isMainThread ? process.argv[2] : undefined;
    const run = command === undefined ? start : commands[command];
    if (!run) {
      process.stderr.write(`${service}: unknown command ${command}; commands: ${Object.keys(commands).join(', ') || 'none'}\n`);
      process.exit(2);
    }
    runServiceMain(service, () => run(), command === undefined ? undefined : () => process.exit(0));
  }
  return start;
}

/**
 * One-shot commands an entry point runs instead of the service (`node main.js migrate`, as the
 * Helm chart's migration Job does), each with the process's environment; the process exits when it ends.
 */
export type ServiceCommands = Record<string, (env?: ServiceEnv) => Promise<unknown>>;

/** Entry-point wrapper: a start-up failure prints one line (config) or the stack, then exits 1. */
export function runServiceMain(service: string, start: () => Promise<unknown>, done?: () => void): void {
  start().then(done, (error: unknown) => {
    process.stderr.write(
      error instanceof Error && error.name === 'ConfigError'
        ? `${service}: ${error.message}\n`
        : `${service}: failed to start: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exit(1);
  });
}
