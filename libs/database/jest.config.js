module.exports = {
  displayName: 'lib-database',
  preset: '../../jest.preset.js',
};
