export * from './lib/public-address';
