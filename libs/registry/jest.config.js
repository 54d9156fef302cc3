module.exports = {
  displayName: 'lib-registry',
  preset: '../../jest.preset.js',
};
