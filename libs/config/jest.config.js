module.exports = {
  displayName: 'lib-config',
  preset: '../../jest.preset.js',
};
