module.exports = {
  displayName: 'lib-backup',
  preset: '../../jest.preset.js',
  // Dumps and restores run real pg_dump, pg_restore and psql processes.
  testTimeout: 120_000,
};
