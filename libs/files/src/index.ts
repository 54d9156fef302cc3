export * from './lib/file-links';
export * from './lib/file-downloads';
export * from './lib/files-env';
export * from './lib/files.module';
