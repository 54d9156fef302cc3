import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import type { ExportConfig } from './config';
import { Export } from './exports/export.entity';
import { ExportsModule } from './exports/exports.module';
import { registerExportMessages } from './messages';
import { exportMigrations } from './migrations';

@Module({})
export class AppModule {
  static forRoot(config: ExportConfig): DynamicModule {
    registerExportMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({ service: 'export', config, entities: [Export], migrations: exportMigrations }),
        ExportsModule,
      ],
    };
  }
}
