const path = require('node:path');

const preset = require('../../jest.preset.js');
const modules = path.resolve(__dirname, '../../node_modules');

module.exports = {
  displayName: 'tools-helm',
  preset: '../../jest.preset.js',
  // kubernetes-models ships ES modules only (exports with an `import` condition only): mapped to its
  // files and compiled for jest.
  moduleNameMapper: {
    ...preset.moduleNameMapper,
    '^kubernetes-models/(.*?)(\\.js)?$': `${modules}/kubernetes-models/$1.js`,
    '^@kubernetes-models/(prometheus-operator|apimachinery)/(.*?)(\\.js)?$': `${modules}/@kubernetes-models/$1/$2.js`,
    '^@kubernetes-models/apimachinery$': `${modules}/@kubernetes-models/apimachinery/index.js`,
    '^@kubernetes-models/(base|validate)$': `${modules}/@kubernetes-models/$1/dist/index.js`,
    '^@kubernetes-models/validate/runtime/(.*?)(\\.js)?$': `${modules}/@kubernetes-models/validate/dist/runtime/$1.js`,
  },
  transformIgnorePatterns: [preset.transformIgnorePatterns[0].replace('(jose|', '(kubernetes-models|@kubernetes-models|is-cidr|cidr-regex|jose|')],
  // Charts are rendered from a scratch copy with their dependencies built once (no infrastructure needed).
  globalSetup: path.join(__dirname, 'jest/global-setup.mjs'),
  globalTeardown: path.join(__dirname, 'jest/global-teardown.mjs'),
  testTimeout: 60_000,
};
