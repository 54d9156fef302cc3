// `npm test`: starts the real infrastructure once, then lints, typechecks, tests and builds every
// project with it, so each jest run reuses the same PostgreSQL, Redis and Kafka. Ends with one
// line totalling every project's jest results.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInfrastructure } from './infrastructure.mjs';

const nx = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/nx');
const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['lint', 'typecheck', 'test', 'build'];
const ANSI = /\x1b\[[0-9;]*m/g;
const JEST_TOTALS = /Tests:\s+(.*) total/;
const totals = { passed: 0, failed: 0, skipped: 0 };

function countJestTotals(text) {
  for (const line of text.replace(ANSI, '').split('\n')) {
    const match = JEST_TOTALS.exec(line);
    if (!match) continue;
    for (const part of match[1].split(',')) {
      const [count, kind] = part.trim().split(/\s+/);
      if (kind in totals) totals[kind] += Number(count);
    }
  }
}

const infrastructure = await ensureInfrastructure();
let exitCode = 1;
try {
  exitCode = await new Promise((resolve) => {
    const child = spawn(nx, ['run-many', '-t', ...targets, '--outputStyle=stream', '--skipNxCache'], {
      stdio: ['inherit', 'pipe', 'pipe'],
      env: { ...process.env, ...infrastructure.env },
    });
    const forward = (stream) => {
      let pending = '';
      return (chunk) => {
        stream.write(chunk);
        const text = pending + chunk.toString();
        const lastNewline = text.lastIndexOf('\n');
        countJestTotals(text.slice(0, lastNewline + 1));
        pending = text.slice(lastNewline + 1);
      };
    };
    child.stdout.on('data', forward(process.stdout));
    child.stderr.on('data', forward(process.stderr));
    const stop = (signal) => child.kill(signal);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    child.on('error', (error) => {
      process.stderr.write(`could not run nx: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await infrastructure.stop();
}
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
process.stdout.write(`\nTests: ${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
process.exit(exitCode === 0 && totals.passed === 0 ? 1 : exitCode);
