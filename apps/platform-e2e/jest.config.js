module.exports = {
  displayName: 'platform-e2e',
  preset: '../../jest.preset.js',
  // Each file starts real service processes; running files one at a time keeps a 2-core machine responsive.
  maxWorkers: 1,
  testTimeout: 120_000,
};
