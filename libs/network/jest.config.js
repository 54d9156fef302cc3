module.exports = {
  displayName: 'lib-network',
  preset: '../../jest.preset.js',
};
