import { Module } from '@nestjs/common';
import { ExportTallyConsumer } from './export-tally.consumer';
import { ExportsResolver } from './exports.resolver';
import { ExportsService } from './exports.service';

@Module({ providers: [ExportsService, ExportsResolver, ExportTallyConsumer] })
export class ExportsModule {}
