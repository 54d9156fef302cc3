const path = require('node:path');

module.exports = {
  displayName: 'platform-e2e',
  preset: '../../jest.preset.js',
  // Within a jest process files run one at a time and share platforms (one per configuration, see
  // jest/): a platform boots once for all the files that use it. `npm test` runs two processes on
  // shards the sequencer balances (jest/platform-sequencer.cjs).
  maxWorkers: 1,
  testEnvironment: path.join(__dirname, 'jest/platform-environment.ts'),
  testSequencer: path.join(__dirname, 'jest/platform-sequencer.cjs'),
  globalTeardown: path.join(__dirname, 'jest/global-teardown.mjs'),
  testTimeout: 120_000,
};
