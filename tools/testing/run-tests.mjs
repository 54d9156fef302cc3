// `npm test`: starts the real infrastructure once, then lints, typechecks, tests and builds every project
// with it, so each jest run reuses the same PostgreSQL, Redis and Kafka.
import { spawn } from 'node:child_process';
import { ensureInfrastructure } from './infrastructure.mjs';

const targets = process.argv.slice(2).length ? process.argv.slice(2) : ['lint', 'typecheck', 'test', 'build'];
const infrastructure = await ensureInfrastructure();
let exitCode = 1;
try {
  exitCode = await new Promise((resolve) => {
    const child = spawn('nx', ['run-many', '-t', ...targets, '--outputStyle=stream', '--skipNxCache'], {
      stdio: 'inherit',
      env: { ...process.env, ...infrastructure.env },
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await infrastructure.stop();
}
process.exit(exitCode);
