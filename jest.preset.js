// Shared jest setup for every project: swc (with decorator metadata, which NestJS and TypeORM
// need) instead of ts-jest for speed, tsconfig path aliases, and the real-infrastructure harness.
const path = require('node:path');
const nxPreset = require('@nx/jest/preset').default;
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replaceAll('/', '\\/')}$`,
    path.join(__dirname, target),
  ]),
);

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper,
  transform: {
    '^.+\\.[cm]?[tj]s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
  },
  // ESM-only packages are compiled to CommonJS for jest's module registry.
  transformIgnorePatterns: ['/node_modules/(?!(jose|pg-boss|rrule-temporal|serialize-error|non-error|marked|marklassian|stemmer)/)'],
  globalSetup: path.join(__dirname, 'tools/testing/jest-global-setup.mjs'),
  globalTeardown: path.join(__dirname, 'tools/testing/jest-global-teardown.mjs'),
  testTimeout: 30_000,
  // A test past its timeout fails, but what it awaited may keep the process alive (a client
  // reconnecting for ever): the run must end with that failure, not wait until CI kills it.
  forceExit: true,
};
