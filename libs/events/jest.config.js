module.exports = {
  displayName: 'lib-events',
  preset: '../../jest.preset.js',
};
