module.exports = {
  displayName: 'lib-graphql',
  preset: '../../jest.preset.js',
};
