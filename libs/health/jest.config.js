module.exports = {
  displayName: 'lib-health',
  preset: '../../jest.preset.js',
};
