module.exports = {
  displayName: 'lib-observability',
  preset: '../../jest.preset.js',
};
