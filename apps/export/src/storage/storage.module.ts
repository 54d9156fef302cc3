import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@multipult/config';
import type { ExportConfig } from '../config';
import { FILE_STORAGE, FileStorage } from './file-storage';
import { LocalFileStorage } from './local-file-storage';
import { S3FileStorage } from './s3-file-storage';

function fileStorageFor(config: ExportConfig): FileStorage {
  if (config.EXPORT_STORAGE === 'local') return new LocalFileStorage(config.EXPORT_STORAGE_DIR);
  return new S3FileStorage({
    bucket: config.EXPORT_S3_BUCKET as string,
    prefix: config.EXPORT_S3_PREFIX,
    client: {
      region: config.EXPORT_S3_REGION,
      endpoint: config.EXPORT_S3_ENDPOINT,
      forcePathStyle: config.EXPORT_S3_FORCE_PATH_STYLE,
      credentials:
        config.EXPORT_S3_ACCESS_KEY_ID && config.EXPORT_S3_SECRET_ACCESS_KEY
          ? { accessKeyId: config.EXPORT_S3_ACCESS_KEY_ID, secretAccessKey: config.EXPORT_S3_SECRET_ACCESS_KEY }
          : undefined,
    },
  });
}

/** The store of produced exports, chosen by EXPORT_STORAGE. */
@Global()
@Module({
  providers: [{ provide: FILE_STORAGE, inject: [APP_CONFIG], useFactory: fileStorageFor }],
  exports: [FILE_STORAGE],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(FILE_STORAGE) private readonly storage: FileStorage) {}

  onApplicationShutdown(): void {
    this.storage.close?.();
  }
}
