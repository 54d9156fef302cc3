module.exports = {
  displayName: 'lib-auth',
  preset: '../../jest.preset.js',
};
