import { Module } from '@nestjs/common';
import { DeliveryRetention } from './delivery-retention';

@Module({ providers: [DeliveryRetention] })
export class RetentionModule {}
