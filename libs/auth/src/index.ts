export * from './lib/principal';
export * from './lib/permissions';
export * from './lib/revocation';
export * from './lib/access-token-verifier';
export * from './lib/decorators';
export * from './lib/auth.guard';
export * from './lib/auth.module';
export * from './lib/secret-box';
