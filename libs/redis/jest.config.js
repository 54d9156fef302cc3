module.exports = {
  displayName: 'lib-redis',
  preset: '../../jest.preset.js',
};
