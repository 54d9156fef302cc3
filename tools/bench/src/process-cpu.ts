import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat's times, read on first use. */
let clockTicksPerSecond: number | undefined;

/** The fields of /proc/<pid>/stat after the command name (field 3 onwards): the name is in parentheses and may hold spaces. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * User + system CPU time a process has used, in microseconds (fields 14 and 15 of /proc/<pid>/stat),
 * with `reaped` also that of its children that exited (16 and 17: a PostgreSQL backend that ended).
 */
export function cpuMicroseconds(pid: number, reaped = false): number {
  clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const fields = statFields(pid);
  const ticks = Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
  return (ticks / clockTicksPerSecond) * 1e6;
}

/** The parent's process id (field 4 of /proc/<pid>/stat). */
export function parentOf(pid: number): number {
  return Number(statFields(pid)[1]);
}

/** A process's CPU time so far; 0 for a backend that exited since the last reading. */
export function cpuMicrosecondsIfRunning(pid: number, reaped = false): number {
  try {
    return cpuMicroseconds(pid, reaped);
  } catch {
    return 0;
  }
}

/** The postmaster listening on the platform's database port and its children (backends, writers), read afresh each time. */
export function postgresPids(port: string): number[] {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  const postmaster = pids.find((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return path.basename(args[0]) === 'postgres' && args.includes('-p') && args[args.indexOf('-p') + 1] === port;
    } catch {
      return false;
    }
  });
  if (postmaster === undefined) return [];
  return [postmaster, ...pids.filter((pid) => pid !== postmaster && safeParent(pid) === postmaster)];
}

function safeParent(pid: number): number | undefined {
  try {
    return parentOf(pid);
  } catch {
    return undefined;
  }
}
