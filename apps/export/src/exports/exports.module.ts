import { Module } from '@nestjs/common';
import { ContentModule } from '../content/content.module';
import { TemplatesModule } from '../templates/templates.module';
import { ExportFeed } from './export-feed';
import { ExportFiles } from './export-files';
import { ExportRetention } from './export-retention';
import { ExportRunner } from './export-runner';
import { ExportsResolver } from './exports.resolver';
import { ExportsService } from './exports.service';

/** Export requests, their durable jobs, live progress, downloads and file retention. */
@Module({
  imports: [ContentModule, TemplatesModule],
  providers: [ExportsService, ExportRunner, ExportFeed, ExportFiles, ExportRetention, ExportsResolver],
  exports: [ExportsService],
})
export class ExportsModule {}
