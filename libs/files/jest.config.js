module.exports = {
  displayName: 'lib-files',
  preset: '../../jest.preset.js',
};
