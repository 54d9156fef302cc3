// Stops the pooled platforms (they outlive the test files by design), then what the shared global
// setup started (PostgreSQL, Redis, Kafka) — in that order, so no service outlives its database.
import sharedTeardown from '../../../tools/testing/jest-global-teardown.mjs';

const POOL_KEY = Symbol.for('multipult.platformPool');

export default async function globalTeardown() {
  const pool = globalThis[POOL_KEY];
  if (pool) {
    await pool.stopAll();
    const boots = pool.boots.map((boot) => `${boot.name} ${(boot.bootMs / 1000).toFixed(1)} s`).join(', ');
    process.stdout.write(`\nplatform pool: ${pool.boots.length} platform boots (${boots})\n`);
  }
  await sharedTeardown();
}
