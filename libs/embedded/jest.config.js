module.exports = {
  displayName: 'lib-embedded',
  preset: '../../jest.preset.js',
};
