module.exports = {
  displayName: 'verify',
  preset: '../../jest.preset.js',
  // The soak spec runs the built soak (dist/tools/verify) as a process: its infrastructure, platform and faults are its own.
  testTimeout: 240_000,
};
