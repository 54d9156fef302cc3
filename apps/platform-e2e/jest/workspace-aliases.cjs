// The platform test environment loads the harness outside jest's module registry, where
// moduleNameMapper does not apply: this resolves the workspace's `@multipult/*` aliases (the
// paths of tsconfig.base.json) for Node's own require, the way jest maps them for test files.
const { registerHooks } = require('node:module');
const path = require('node:path');
const { compilerOptions } = require('../../../tsconfig.base.json');

const workspaceRoot = path.resolve(__dirname, '../../..');
const aliases = new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, path.join(workspaceRoot, target)]));

registerHooks({
  resolve(specifier, context, nextResolve) {
    return nextResolve(aliases.get(specifier) ?? specifier, context);
  },
});
