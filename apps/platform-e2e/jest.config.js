const path = require('node:path');

module.exports = {
  displayName: 'platform-e2e',
  preset: '../../jest.preset.js',
  // Files run one at a time and share platforms (one per configuration, see jest/): a 2-core
  // machine stays responsive, and a platform boots once for all the files that use it.
  maxWorkers: 1,
  testEnvironment: path.join(__dirname, 'jest/platform-environment.ts'),
  testSequencer: path.join(__dirname, 'jest/platform-sequencer.cjs'),
  globalTeardown: path.join(__dirname, 'jest/global-teardown.mjs'),
  testTimeout: 120_000,
};
