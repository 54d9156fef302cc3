// Orders the e2e files so the files of one platform configuration run together: with one platform
// alive at a time (see platform-environment.ts) each configuration then boots once. A file's
// configurations are the literal `usePlatform('<name>')` calls in it, in order; a file that uses
// two (gdpr.spec.ts) closes the group of the first and the group of the second follows it.
const { readFileSync } = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

const USE_PLATFORM = /usePlatform\(\s*['"]([\w-]+)['"]\s*,?\s*\)/g;

function configurationsOf(testPath) {
  const names = [...readFileSync(testPath, 'utf8').matchAll(USE_PLATFORM)].map((match) => match[1]);
  return [...new Set(names)];
}

class PlatformSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    const configurations = new Map(ordered.map((test) => [test, configurationsOf(test.path)]));
    const byFirst = new Map();
    for (const test of ordered) {
      const first = configurations.get(test)[0] ?? '';
      if (!byFirst.has(first)) byFirst.set(first, []);
      byFirst.get(first).push(test);
    }
    // Files without a pooled platform first; then `default`, then the others by name.
    const groupOrder = [...byFirst.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const result = [];
    const emitted = new Set();
    const emit = (name) => {
      if (emitted.has(name) || !byFirst.has(name)) return;
      emitted.add(name);
      const files = byFirst.get(name);
      const single = files.filter((test) => configurations.get(test).length <= 1);
      const chained = files.filter((test) => configurations.get(test).length > 1);
      result.push(...single, ...chained);
      for (const test of chained) emit(configurations.get(test).at(-1));
    };
    groupOrder.forEach(emit);
    return result;
  }
}

function rank(name) {
  if (name === '') return 0;
  return name === 'default' ? 1 : 2;
}

module.exports = PlatformSequencer;
