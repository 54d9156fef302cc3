// Orders the e2e files so the files of one platform configuration run together: with one platform
// alive at a time (see platform-environment.ts) each configuration then boots once. A file's
// configurations are the literal `usePlatform('<name>')` calls in it, in order; a file that uses
// two (gdpr.spec.ts) closes the group of the first and the group of the second follows it.
const { readFileSync } = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const USE_PLATFORM = /usePlatform\(\s*['"]([\w-]+)['"]\s*,?\s*\)/g;

function configurationsOf(testPath) {
  const names = [...readFileSync(testPath, 'utf8').matchAll(USE_PLATFORM)].map((match) => match[1]);
  return [...new Set(names)];
}

// Seconds each file took in a CI run (npm test's e2e phase; the first file of a configuration's
// group includes its boot). Refresh it from a run's "PASS … (N s)" lines when files change much; a
// file not in it is estimated.
const FILE_SECONDS = require('./file-seconds.json');
// What a platform boot costs, in seconds, as a file's weight is: added for a configuration whose
// files were never measured (measured ones carry their boot already) and for each shard's default.
const BOOT_WEIGHT = 45;
// An unlisted file: seconds per test case; one that builds or starts whole workspaces, images or
// platforms of its own (no pooled platform) weighs three boots more.
const SECONDS_PER_CASE = 5;
const TEST_CASE = /^\s*(?:it|test)(?:\.each\([^)]*\))?\(/gm;

function weightOf(testPath) {
  const measured = FILE_SECONDS[path.basename(testPath)];
  if (measured !== undefined) return measured;
  const source = readFileSync(testPath, 'utf8');
  const cases = (source.match(TEST_CASE) ?? []).length * SECONDS_PER_CASE;
  return configurationsOf(testPath).length ? cases : cases + 3 * BOOT_WEIGHT;
}

class PlatformSequencer extends Sequencer {
  /**
   * `--shard=i/n` (npm test runs the e2e files as two jest processes side by side): files that use
   * a configuration other than `default` stay together so it boots once; `default` files, the
   * largest group, are spread one by one, each shard booting its own default platform. Heaviest first onto the
   * lightest shard, so the shards end close together; units whose files leave default for another
   * configuration (gdpr.spec.ts, cli.spec.ts) go to different shards, else a shard boots default twice.
   */
  shard(tests, { shardIndex, shardCount }) {
    const units = new Map();
    for (const test of [...tests].sort((a, b) => a.path.localeCompare(b.path))) {
      const configurations = configurationsOf(test.path);
      const own = configurations.find((name) => name !== 'default');
      const key = own ? `configuration:${own}` : `file:${test.path}`;
      const unit = units.get(key) ?? { tests: [], weight: 0, measured: false, leavesDefault: false };
      unit.tests.push(test);
      unit.weight += weightOf(test.path);
      unit.measured ||= path.basename(test.path) in FILE_SECONDS;
      // A file that uses default and then another configuration stops default on its way out.
      unit.leavesDefault ||= configurations.includes('default') && own !== undefined;
      units.set(key, unit);
    }
    for (const [key, unit] of units) if (key.startsWith('configuration:') && !unit.measured) unit.weight += BOOT_WEIGHT;
    const shards = Array.from({ length: shardCount }, () => ({ tests: [], weight: BOOT_WEIGHT, leavesDefault: false }));
    for (const unit of [...units.values()].sort((a, b) => b.weight - a.weight || a.tests[0].path.localeCompare(b.tests[0].path))) {
      // Two units that leave default on one shard would boot default twice there: spread them while shards allow.
      const candidates = unit.leavesDefault && shards.some((shard) => !shard.leavesDefault) ? shards.filter((shard) => !shard.leavesDefault) : shards;
      const lightest = candidates.reduce((best, shard) => (shard.weight < best.weight ? shard : best));
      lightest.tests.push(...unit.tests);
      lightest.weight += unit.weight;
      lightest.leavesDefault ||= unit.leavesDefault;
    }
    return shards[shardIndex - 1].tests;
  }

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
