const path = require('node:path');

module.exports = {
  displayName: 'tools-helm',
  preset: '../../jest.preset.js',
  // Charts are rendered from a scratch copy with their dependencies built once (no infrastructure needed).
  globalSetup: path.join(__dirname, 'jest/global-setup.mjs'),
  globalTeardown: path.join(__dirname, 'jest/global-teardown.mjs'),
  testTimeout: 60_000,
};
