module.exports = {
  displayName: 'lib-subgraph',
  preset: '../../jest.preset.js',
};
