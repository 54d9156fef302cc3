import { Module } from '@nestjs/common';
import { ExportsModule } from '../exports/exports.module';
import { SchedulesResolver } from './schedules.resolver';
import { SchedulesService } from './schedules.service';

/** Recurring exports per tenant (cron), started by a recurring job. */
@Module({ imports: [ExportsModule], providers: [SchedulesService, SchedulesResolver] })
export class SchedulesModule {}
