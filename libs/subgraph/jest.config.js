module.exports = {
  displayName: 'lib-subgraph',
  preset: '../../jest.preset.js',
  // Relative `import('./x.js')` (the lazy half of the bootstrap) resolves to the TypeScript source.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
