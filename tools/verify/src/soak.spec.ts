import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '@multipult/testing';
import type { SoakReport } from './soak';

const SHORT_DURATION_SECONDS = 60;
/** Shorter than the run, so tokens are renewed and live sockets outlive the token they opened with. */
const SHORT_TOKEN_TTL_SECONDS = 40;

/**
 * The soak of `npm run verify`, short: the built tool (this project's build target runs first) as
 * its own process, since it starts and kills its own PostgreSQL, Redis, Kafka broker and services.
 */
describe('soak with faults (short)', () => {
  let report: SoakReport;
  let exitCode: number | null;
  let output = '';

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'multipult-verify-'));
    const reportPath = path.join(dir, 'report.json');
    try {
      const child = spawn(process.execPath, [path.join(workspaceRoot(), 'dist/tools/verify/tools/verify/src/main.js')], {
        env: { ...process.env, VERIFY_DURATION_SECONDS: String(SHORT_DURATION_SECONDS), VERIFY_ACCESS_TOKEN_TTL_SECONDS: String(SHORT_TOKEN_TTL_SECONDS), VERIFY_REPORT_PATH: reportPath, VERIFY_WRITE_DOCS: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      exitCode = await new Promise((resolve) => child.once('exit', (code) => resolve(code)));
      report = JSON.parse(await readFile(reportPath, 'utf8'));
      process.stdout.write(`${output}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('injected every fault and exercised every kind of operation', () => {
    expect(report.faults.map((fault) => fault.name)).toEqual([
      expect.stringMatching(/^Kafka broker kill -9/),
      'Redis restart',
      'content subgraph kill -9 and start',
      'PostgreSQL restart',
    ]);
    expect(report.checks.find((row) => row.name === 'mention -> one live socket delivery')?.checked).toBeGreaterThan(0);
    expect(report.checks.find((row) => row.name === 'export -> SUCCEEDED')?.checked).toBeGreaterThan(0);
    expect(report.checks.find((row) => row.name === 'agent run -> finished')?.checked).toBeGreaterThan(0);
    expect(report.revocations).toBeGreaterThan(0);
  });

  it('had no errors outside the fault windows', () => {
    expect(report.errors.filter((row) => !row.insideWindow)).toEqual([]);
  });

  it('lost and duplicated nothing, reconciled by id', () => {
    expect(report.checks.filter((row) => row.lost || row.duplicated)).toEqual([]);
    expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({ lost: 0, duplicated: 0 });
  });

  it('renewed expiring tokens and kept the live sockets across their expiry', () => {
    expect(report.tokenRenewals).toBeGreaterThan(0);
    expect(report.liveReconnects).toBeGreaterThan(0);
  });

  it('refused every revoked session', () => {
    expect(report.revokedSessionsUsable).toBe(0);
  });

  it('recovered from every fault: each kind of operation succeeded again afterwards', () => {
    expect(report.failures).toEqual([]);
    expect(exitCode).toBe(0);
  });
});
