import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SoakReport } from './soak';

const format = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** The report as tables on stdout. */
export function printReport(report: SoakReport): void {
  console.log(
    `\nSoak: ${report.durationSeconds} s (workload ran ${format(report.workloadSeconds)} s) at ${report.ratePerSecond} operations/s (achieved ${format(report.operationsPerSecond)}/s plus status polls), ` +
      `${report.operations} operations, ${report.failedOperations} failed, wall time ${format(report.wallSeconds)} s`,
  );
  console.log('\nFaults');
  console.table(
    report.faults.map((fault) => ({
      fault: fault.name,
      atSeconds: format((fault.injectedAt - Date.parse(report.startedAt)) / 1000),
      downSeconds: format((fault.restoredAt - fault.injectedAt) / 1000),
      windowEndsSecondsAfterRestore: format((fault.windowEnd - fault.restoredAt) / 1000),
    })),
  );
  console.log('Errors by type (outside every fault window = failure)');
  console.table(report.errors.length ? report.errors : [{ kind: '-', errorType: 'none', count: 0, fault: '-', insideWindow: true }]);
  console.log('Recovery after each fault: seconds from the restart until the gateway was ready / the first success of each kind');
  console.table(report.recovery.map((row) => ({ fault: row.fault, downSeconds: format(row.downSeconds), gatewayReady: format(row.gatewayReadySeconds), ...mapValues(row.firstSuccessSeconds) })));
  console.log('Latency of successful operations (ms), by phase: before the first fault, during a fault window, between windows, after the last');
  console.table(report.latency.map((row) => ({ ...row, p50Ms: format(row.p50Ms, 0), p99Ms: format(row.p99Ms, 0) })));
  console.log('Resident memory, open descriptors (/proc) and the V8 heap floor (lowest heap in use per window) per process, slopes after warm-up');
  console.table(
    report.resources.map((row) => ({
      process: row.process,
      rssMiB: `${format(row.firstRssMiB, 0)} -> ${format(row.lastRssMiB, 0)} (max ${format(row.maxRssMiB, 0)})`,
      rssSlopeMiBPerMin: format(row.rssSlopeMiBPerMinute, 2),
      fds: `${row.firstFds} -> ${row.lastFds} (max ${row.maxFds})`,
      fdSlopePerMin: format(row.fdSlopePerMinute, 2),
      heapFloorMiB: row.heapFloorMiB ? `${format(row.heapFloorMiB.first, 0)} -> ${format(row.heapFloorMiB.last, 0)}` : '-',
      heapFloorSlopeMiBPerMin: row.heapFloorMiB ? format(row.heapFloorMiB.slopeMiBPerMinute, 2) : '-',
      heapCommittedMiB: row.heapTotalMiB ? `${format(row.heapTotalMiB.first, 0)} -> ${format(row.heapTotalMiB.last, 0)}` : '-',
    })),
  );
  console.log('Reconciliation by id');
  console.table(report.checks.map((row) => ({ check: row.name, checked: row.checked, lost: row.lost, duplicated: row.duplicated })));
  console.log(
    `lost ${report.lost}, duplicated ${report.duplicated}, revocations ${report.revocations} (still usable: ${report.revokedSessionsUsable}), ` +
      `live socket reconnects ${report.liveReconnects}, token renewals ${report.tokenRenewals} (of which signed in again ${report.signInsAgain}), errors outside fault windows ${report.errorsOutsideWindows}, ` +
      `processes that exited on their own: ${report.crashes.length ? report.crashes.join(', ') : 'none'}`,
  );
  console.log(`agent runs by final status: ${JSON.stringify(report.agentRuns)}${report.agentRunErrors.length ? `; errors of the failed: ${report.agentRunErrors.join(' | ')}` : ''}`);
  console.log(report.failures.length ? `\nFAILED:\n- ${report.failures.join('\n- ')}` : '\nEvery invariant held.');
}

function mapValues(values: Record<string, number | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, format(value ?? Number.NaN)]));
}

function table(headers: string[], rows: (string | number)[][]): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function commitOf(root: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The "Soak" section of docs/verification.md, replaced in place (other sections stay as they are). */
export async function writeSoakSection(root: string, report: SoakReport): Promise<string> {
  const file = path.join(root, 'docs/verification.md');
  const kinds = [...new Set(report.recovery.flatMap((row) => Object.keys(row.firstSuccessSeconds)))];
  const section = [
    '## Soak',
    '',
    '`npm run verify` (tools/verify): its own embedded PostgreSQL, redis-server and Kafka broker, the platform as separate processes',
    '(gateway and every subgraph) with a fake OpenAI-compatible model server and an SMTP capture; a fixed-rate mix through the gateway',
    '(sign-ups, logins, document writes, searches, comments with @mentions received on graphql-ws sockets, PDF exports polled to the',
    'end, agent runs, session revocations) while the Kafka broker is killed (kill -9) and kept down, Redis is restarted, the content',
    'subgraph is killed (kill -9) and started again, and PostgreSQL is restarted; then every write is reconciled by id. `npm test` runs',
    'a short version (tools/verify/src/soak.spec.ts) with 40 s access tokens. `VERIFY_DURATION_SECONDS` (600), `VERIFY_RATE` (10/s) and',
    '`VERIFY_ACCESS_TOKEN_TTL_SECONDS` (3600: the users renew their tokens with their refresh tokens as apps do, live sockets reconnect and resume when theirs expires) shape a run;',
    '`VERIFY_HEAP_SNAPSHOT_DIR=<dir>` has every service write a heap snapshot at warm-up\'s end and at the run\'s, which',
    '`node dist/tools/verify/tools/verify/src/heap-diff.js <earlier> <later>` compares by constructor. Figures of the last full run:',
    '',
    `- Date ${report.startedAt}, commit ${commitOf(root)}, ${report.durationSeconds} s (workload ran ${format(report.workloadSeconds)} s) at ${report.ratePerSecond} operations/s ` +
      `(achieved ${format(report.operationsPerSecond)}/s plus status polls), ${report.operations} operations, ${report.failedOperations} failed, wall time ${format(report.wallSeconds)} s.`,
    `- Lost ${report.lost}, duplicated ${report.duplicated}; revocations ${report.revocations}, revoked sessions still usable ${report.revokedSessionsUsable}; ` +
      `errors outside fault windows ${report.errorsOutsideWindows}; live socket reconnects ${report.liveReconnects}; token renewals ${report.tokenRenewals} (of which signed in again ${report.signInsAgain}); ` +
      `processes that exited on their own: ${report.crashes.length ? report.crashes.join(', ') : 'none'}.`,
    `- Agent runs by final status: ${Object.entries(report.agentRuns).map(([status, count]) => `${status} ${count}`).join(', ')}` +
      `${report.agentRunErrors.length ? ` (errors of the failed: ${report.agentRunErrors.join(' | ')})` : ''}.`,
    `- Result: ${report.failures.length ? `FAILED: ${report.failures.join('; ')}` : 'every invariant held'}.`,
    '',
    '### Faults and recovery',
    '',
    'Seconds from the end of each restart until the gateway answered ready again (0: it never stopped) and until the first success of each kind of operation started after it.',
    '',
    table(
      ['fault', 'at s', 'down s', 'gateway ready', ...kinds],
      report.recovery.map((row, index) => [
        row.fault,
        format((report.faults[index].injectedAt - Date.parse(report.startedAt)) / 1000),
        format(row.downSeconds),
        format(row.gatewayReadySeconds),
        ...kinds.map((kind) => format(row.firstSuccessSeconds[kind as keyof typeof row.firstSuccessSeconds] ?? Number.NaN)),
      ]),
    ),
    '',
    '### Errors by type',
    '',
    'A fault\'s window runs from its injection until its restart ended plus the recovery allowance; an error outside every window fails the run.',
    '',
    report.errors.length
      ? table(['operation', 'error', 'count', 'fault window'], report.errors.map((row) => [row.kind, row.errorType, row.count, row.insideWindow ? row.fault : `**${row.fault}**`]))
      : 'No operation failed.',
    '',
    '### Latency (ms) by phase',
    '',
    table(['operation', 'phase', 'count', 'p50', 'p99'], report.latency.map((row) => [row.kind, row.phase, row.count, format(row.p50Ms, 0), format(row.p99Ms, 0)])),
    '',
    '### Memory and descriptors',
    '',
    'RSS and descriptors are read from /proc every few seconds, the V8 heap in use from each service\'s metrics. The heap floor is the lowest heap in use of each twelfth of the run (at least a minute): what survives collection. Slopes are least-squares fits after the first fifth of the run (warm-up).',
    '',
    table(
      ['process', 'RSS MiB first -> last (max)', 'RSS slope MiB/min', 'heap floor MiB first -> last', 'heap floor slope MiB/min', 'V8 heap committed MiB (after warm-up)', 'fds first -> last (max)', 'fd slope /min'],
      report.resources.map((row) => [
        row.process,
        `${format(row.firstRssMiB, 0)} -> ${format(row.lastRssMiB, 0)} (${format(row.maxRssMiB, 0)})`,
        format(row.rssSlopeMiBPerMinute, 2),
        row.heapFloorMiB ? `${format(row.heapFloorMiB.first, 0)} -> ${format(row.heapFloorMiB.last, 0)}` : '-',
        row.heapFloorMiB ? format(row.heapFloorMiB.slopeMiBPerMinute, 2) : '-',
        row.heapTotalMiB ? `${format(row.heapTotalMiB.first, 0)} -> ${format(row.heapTotalMiB.last, 0)}` : '-',
        `${row.firstFds} -> ${row.lastFds} (${row.maxFds})`,
        format(row.fdSlopePerMinute, 2),
      ]),
    ),
    '',
    '### Reconciliation by id',
    '',
    table(['check', 'checked', 'lost', 'duplicated'], report.checks.map((row) => [row.name, row.checked, row.lost, row.duplicated])),
    '',
  ].join('\n');
  const existing = existsSync(file) ? await readFile(file, 'utf8') : '# Verification\n';
  const start = existing.search(/^## Soak\s*$/m);
  let updated: string;
  if (start === -1) updated = `${existing.trimEnd()}\n\n${section}`;
  else {
    const rest = existing.slice(start + 1);
    const next = rest.search(/^## /m);
    updated = existing.slice(0, start) + section + (next === -1 ? '' : `\n${rest.slice(next)}`);
  }
  await writeFile(file, updated);
  return file;
}
