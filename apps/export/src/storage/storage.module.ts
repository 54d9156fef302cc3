import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import type { ExportConfig } from '../config';
import { FILE_STORAGE } from './file-storage';
import { LocalFileStorage } from './local-file-storage';

/** The file store of produced exports, chosen by config. */
@Global()
@Module({
  providers: [{ provide: FILE_STORAGE, inject: [APP_CONFIG], useFactory: (config: ExportConfig) => new LocalFileStorage(config.EXPORT_STORAGE_DIR) }],
  exports: [FILE_STORAGE],
})
export class StorageModule {}
