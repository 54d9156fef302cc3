import { Global, Module } from '@nestjs/common';
import { ModelGateway } from './model-gateway';

/** The model endpoints (or the built-in scripted model), for every feature module. */
@Global()
@Module({ providers: [ModelGateway], exports: [ModelGateway] })
export class ModelsModule {}
