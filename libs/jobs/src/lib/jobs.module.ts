import { DynamicModule, Global, Module } from '@nestjs/common';
import { JOBS_MODULE_OPTIONS, JobQueue, JobsModuleOptions } from './job-queue';

/**
 * Durable jobs for one service: `JobsModule.forRoot({ service })` beside ConfigModule (whose config
 * includes databaseEnv, baseEnv and jobsEnv); feature modules inject JobQueue and define their
 * queues in onModuleInit.
 */
@Global()
@Module({})
export class JobsModule {
  static forRoot(options: JobsModuleOptions): DynamicModule {
    return {
      module: JobsModule,
      providers: [{ provide: JOBS_MODULE_OPTIONS, useValue: options }, JobQueue],
      exports: [JobQueue],
    };
  }
}
