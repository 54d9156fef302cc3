import { DynamicModule, Module } from '@nestjs/common';
import { FilesModule } from '@multipult/files';
import { RealtimeServerModule } from '@multipult/realtime';
import { SubgraphModule } from '@multipult/subgraph';
import type { ExportConfig } from './config';
import { ExportItem } from './exports/export-item.entity';
import { Export } from './exports/export.entity';
import { ExportsModule } from './exports/exports.module';
import { JiraConnection } from './jira/jira-connection.entity';
import { JiraIssueLink } from './jira/jira-issue-link.entity';
import { JiraModule } from './jira/jira.module';
import { registerExportMessages } from './messages';
import { exportMigrations } from './migrations';
import { ExportSchedule } from './schedules/export-schedule.entity';
import { SchedulesModule } from './schedules/schedules.module';
import { StorageModule } from './storage/storage.module';
import { ExportBranding } from './templates/export-branding.entity';
import { ExportTemplateVersion } from './templates/export-template-version.entity';
import { ExportTemplate } from './templates/export-template.entity';
import { TemplatesModule } from './templates/templates.module';

@Module({})
export class AppModule {
  static forRoot(config: ExportConfig): DynamicModule {
    registerExportMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({
          service: 'export',
          config,
          entities: [Export, ExportItem, ExportTemplate, ExportTemplateVersion, ExportBranding, ExportSchedule, JiraConnection, JiraIssueLink],
          migrations: exportMigrations,
          redis: { pubSub: true },
        }),
        FilesModule.forRoot({ service: 'export' }),
        StorageModule,
        TemplatesModule,
        ExportsModule,
        SchedulesModule,
        JiraModule,
        RealtimeServerModule.forRoot(),
      ],
    };
  }
}
