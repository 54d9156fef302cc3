import { Module } from '@nestjs/common';
import { LiveBus } from './live-bus';

@Module({ providers: [LiveBus], exports: [LiveBus] })
export class LiveModule {}
