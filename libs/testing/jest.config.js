module.exports = {
  displayName: 'lib-testing',
  preset: '../../jest.preset.js',
};
