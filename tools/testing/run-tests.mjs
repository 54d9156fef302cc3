// `npm test`: starts the real infrastructure once, then lints, typechecks, builds and tests every
// project with it, so each jest run reuses the same PostgreSQL, Redis and Kafka. Prints the time of
// each phase and ends with one line totalling every project's jest results.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { ensureInfrastructure } from './infrastructure.mjs';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin');
const nx = path.join(bin, 'nx');
const tsc = path.join(bin, 'tsc');
const jest = path.join(bin, 'jest');
const E2E_SHARDS = 2;
const JEST_TOTALS = /Tests:\s+(.*) total/;
const totals = { passed: 0, failed: 0, skipped: 0 };

// Jest names each failed test in a block that starts "● <suite> › <test>" (or "● Test suite failed to
// run"). CI keeps only the end of the log, where the phase times are, so the blocks' first lines are
// printed again there.
const FAILURE_HEADER = /^\s*● (.+ › .+|Test suite failed to run)$/;
const CODE_FRAME = /^\s*>?\s*\d*\s*\|/;
const NX_PROJECT_PREFIX = /^([\w@./-]+): (.*)$/;
const FAILURE_MAX_LINES = 20;
const FAILURES_SHOWN = 4;
const failedTests = [];
const readingFailures = new Map();

/** Keeps each failed test's header, message and first stack line, per project (Nx interleaves their lines). */
function collectFailures(label, plainLines) {
  for (const raw of plainLines) {
    const prefixed = NX_PROJECT_PREFIX.exec(raw);
    const source = [label, prefixed?.[1]].filter(Boolean).join(' ');
    const line = (prefixed ? prefixed[2] : raw).trim();
    if (FAILURE_HEADER.test(line)) {
      const header = `${source}: ${line}`;
      // Jest repeats the blocks in its summary of failing tests: a repeat is not read again.
      if (failedTests.some((lines) => lines[0] === header)) readingFailures.delete(source);
      else {
        failedTests.push([header]);
        readingFailures.set(source, failedTests.at(-1));
      }
      continue;
    }
    const failure = readingFailures.get(source);
    if (!failure || !line || CODE_FRAME.test(line)) continue;
    failure.push(`    ${line}`);
    if (line.startsWith('at ') || failure.length >= FAILURE_MAX_LINES) readingFailures.delete(source);
  }
}

function countJestTotals(plainLines) {
  for (const line of plainLines) {
    const match = JEST_TOTALS.exec(line);
    if (!match) continue;
    for (const part of match[1].split(',')) {
      const [count, kind] = part.trim().split(/\s+/);
      if (kind in totals) totals[kind] += Number(count);
    }
  }
}

/**
 * The phases of `npm test`, in order; the commands of one phase run side by side. The whole
 * workspace is typechecked as one TypeScript program (tsconfig.typecheck.json: one pass over the
 * libs instead of one per project; the generators also keep their own stricter check), next to
 * lint two projects at a time. Builds use the Nx cache; tests always run. End-to-end files share
 * platforms within a jest process, and two such processes run side by side on shards the e2e
 * sequencer balances (much of an e2e file's time is waiting on Kafka, timers and other processes,
 * so a second shard uses cores the first leaves idle). Their lines are labelled with the shard.
 * The short soak (tools/verify) is a test target of its own in the unit phase: it brings its own
 * infrastructure and faults, which would disturb the e2e files' timing.
 */
const PHASES = [
  {
    name: 'lint and typecheck',
    commands: [
      [nx, ['run-many', '-t', 'lint', '--parallel=2', '--outputStyle=stream']],
      [tsc, ['-p', 'tsconfig.typecheck.json']],
      [tsc, ['-p', 'tools/generators/tsconfig.json', '--noEmit']],
    ],
  },
  { name: 'build', commands: [[nx, ['run-many', '-t', 'build', '--parallel=2', '--outputStyle=stream']]] },
  {
    name: 'unit and integration tests',
    // Test targets are never cached (nx.json); without --skipNxCache the builds the soak depends on
    // come from the build phase instead of being built again on its critical path. The soak (about
    // 240 s, the longest target) starts with the phase beside the others, two at a time: Nx queued
    // it last behind them, and the phase took 452 s against 303-384 s this way.
    commands: [
      [nx, ['run-many', '-t', 'test', '--exclude=platform-e2e,verify', '--parallel=2', '--outputStyle=stream']],
      [nx, ['run', 'verify:test', '--outputStyle=stream']],
    ],
  },
  {
    name: 'end-to-end tests',
    commands: Array.from({ length: E2E_SHARDS }, (_, index) => [
      jest,
      ['-c', 'apps/platform-e2e/jest.config.js', `--shard=${index + 1}/${E2E_SHARDS}`],
      `e2e ${index + 1}/${E2E_SHARDS}`,
    ]),
  },
];
const requested = process.argv.slice(2);
const phases = requested.length
  ? [{ name: requested.join(' '), commands: [[nx, ['run-many', '-t', ...requested, '--skipNxCache', '--outputStyle=stream']]] }]
  : PHASES;

/** Runs one command, copying its output (each line prefixed with `label`, if given) and counting jest's totals. */
function runCommand([command, args, label], env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'], env, cwd: path.resolve(bin, '../..') });
    const forward = (stream) => {
      let pending = '';
      const write = (lines) => {
        stream.write(label ? lines.split('\n').map((line) => `[${label}] ${line}\n`).join('') : `${lines}\n`);
        const plainLines = stripVTControlCharacters(lines).split('\n');
        countJestTotals(plainLines);
        collectFailures(label, plainLines);
      };
      return {
        data: (chunk) => {
          const text = pending + chunk.toString();
          const lastNewline = text.lastIndexOf('\n');
          pending = text.slice(lastNewline + 1);
          if (lastNewline >= 0) write(text.slice(0, lastNewline));
        },
        end: () => {
          if (pending) write(pending);
          pending = '';
        },
      };
    };
    const out = forward(process.stdout);
    const err = forward(process.stderr);
    child.stdout.on('data', out.data);
    child.stderr.on('data', err.data);
    const stop = (signal) => child.kill(signal);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    child.on('error', (error) => {
      process.stderr.write(`could not run ${path.basename(command)}: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const startedAt = Date.now();
const timings = [];
const infrastructure = await ensureInfrastructure();
timings.push({ name: 'infrastructure', ms: Date.now() - startedAt, code: 0 });
let exitCode = 0;
try {
  for (const phase of phases) {
    const phaseStart = Date.now();
    process.stdout.write(`\n=== ${phase.name} ===\n`);
    const codes = await Promise.all(phase.commands.map((command) => runCommand(command, { ...process.env, ...infrastructure.env })));
    const code = codes.find((each) => each !== 0) ?? 0;
    timings.push({ name: phase.name, ms: Date.now() - phaseStart, code });
    if (code !== 0) {
      exitCode = code;
      break;
    }
  }
} finally {
  await infrastructure.stop();
}
process.stdout.write('\nPhase times:\n');
for (const { name, ms, code } of timings) process.stdout.write(`  ${name.padEnd(28)} ${seconds(ms).padStart(9)}${code ? '  (failed)' : ''}\n`);
process.stdout.write(`  ${'total'.padEnd(28)} ${seconds(Date.now() - startedAt).padStart(9)}\n`);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
if (failedTests.length) {
  process.stdout.write('\nFailed tests:\n');
  for (const lines of failedTests.slice(0, FAILURES_SHOWN)) process.stdout.write(`${lines.join('\n')}\n`);
  if (failedTests.length > FAILURES_SHOWN) process.stdout.write(`and ${failedTests.length - FAILURES_SHOWN} more (above)\n`);
}
process.stdout.write(`\nTests: ${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
process.exit(exitCode === 0 && totals.passed === 0 ? 1 : exitCode);
