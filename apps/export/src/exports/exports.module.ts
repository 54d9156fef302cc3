import { Module } from '@nestjs/common';
import { ContentModule } from '../content/content.module';
import { DocumentImages } from '../images/document-images';
import { JiraModule } from '../jira/jira.module';
import { TemplatesModule } from '../templates/templates.module';
import { ExportFeed } from './export-feed';
import { ExportFiles } from './export-files';
import { ExportRetention } from './export-retention';
import { ExportRunner } from './export-runner';
import { ExportItemsResolver, ExportsResolver } from './exports.resolver';
import { ExportsService } from './exports.service';

/** Export requests, their durable jobs, live progress, downloads and file retention. */
@Module({
  imports: [ContentModule, TemplatesModule, JiraModule],
  providers: [ExportsService, ExportRunner, DocumentImages, ExportFeed, ExportFiles, ExportRetention, ExportsResolver, ExportItemsResolver],
  exports: [ExportsService],
})
export class ExportsModule {}
