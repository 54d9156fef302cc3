export * from './lib/hub-endpoint';
