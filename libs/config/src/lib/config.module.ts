import { DynamicModule, Global, Inject, Module } from '@nestjs/common';

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Injects the validated configuration object given to ConfigModule.forRoot. */
export const InjectConfig = () => Inject(APP_CONFIG);

@Global()
@Module({})
export class ConfigModule {
  /** `config` is the already validated object (see loadConfig), so modules never see raw env. */
  static forRoot<T extends object>(config: T): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: Object.freeze({ ...config }) }],
      exports: [APP_CONFIG],
    };
  }
}
