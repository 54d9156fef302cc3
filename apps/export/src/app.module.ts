import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import type { ExportConfig } from './config';
import { Export } from './exports/export.entity';
import { ExportsModule } from './exports/exports.module';
import { JiraConnection } from './jira/jira-connection.entity';
import { JiraIssueLink } from './jira/jira-issue-link.entity';
import { JiraModule } from './jira/jira.module';
import { registerExportMessages } from './messages';
import { exportMigrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: ExportConfig): DynamicModule {
    registerExportMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({ service: 'export', config, entities: [Export, JiraConnection, JiraIssueLink], migrations: exportMigrations }),
        ExportsModule,
        JiraModule,
      ],
    };
  }
}
