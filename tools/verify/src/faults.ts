import { Platform, ServiceProcess } from '@multipult/testing';
import { SoakInfrastructure } from './infrastructure';

export interface FaultWindow {
  name: string;
  /** When the fault was injected. */
  injectedAt: number;
  /** When the failed part was back (its restart finished). */
  restoredAt: number;
  /** Errors up to here count as the fault's; the platform has this long after the restart to recover. */
  windowEnd: number;
  /** Why the part could not be brought back, if it could not. */
  error?: string;
}

export interface FaultPlan {
  name: string;
  /** Seconds after the workload starts (later if the previous fault is not over yet). */
  atSeconds: number;
  inject(): Promise<void>;
}

// A replacement slower than this to get ready has its start-up logged: where the time went.
const SLOW_START_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The faults of a run of `durationSeconds`, one after the other: the Kafka broker killed (kill -9)
 * and down for a while, Redis restarted, the content subgraph killed (kill -9) and started again on
 * its port, PostgreSQL restarted. Placed at fixed shares of the run, so a short run has them all.
 */
export function faultPlan(options: {
  durationSeconds: number;
  infrastructure: SoakInfrastructure;
  platform: Platform;
  /** The content subgraph's process now (it changes when it is replaced). */
  services: Record<string, ServiceProcess>;
  /** Services being replaced on purpose (their exit is no crash). */
  replacing: Set<string>;
  log: (line: string) => void;
}): FaultPlan[] {
  const { durationSeconds, infrastructure, platform, services, replacing, log } = options;
  const kafkaDownMs = Math.min(30, Math.max(3, durationSeconds * 0.05)) * 1000;
  return [
    {
      name: `Kafka broker kill -9, down ${kafkaDownMs / 1000} s`,
      atSeconds: durationSeconds * 0.12,
      inject: async () => {
        await infrastructure.killKafka();
        await sleep(kafkaDownMs);
        await infrastructure.startKafka();
      },
    },
    {
      name: 'Redis restart',
      atSeconds: durationSeconds * 0.35,
      inject: async () => {
        await infrastructure.stopRedis();
        await infrastructure.startRedis();
      },
    },
    {
      name: 'content subgraph kill -9 and start',
      atSeconds: durationSeconds * 0.52,
      inject: async () => {
        const content = services.content;
        replacing.add('content');
        content.kill();
        await waitForExit(content.pid);
        // Its start-up is logged (info), so a replacement that never gets ready says why.
        const startingAt = Date.now();
        services.content = await platform.startServiceInstance('content', { LOG_LEVEL: 'info' }, content.port);
        const startupMs = Date.now() - startingAt;
        if (startupMs > SLOW_START_MS) log(`[soak] the content replacement took ${(startupMs / 1000).toFixed(1)} s to get ready; its start-up:\n${services.content.output().slice(0, 8000)}`);
        replacing.delete('content');
      },
    },
    {
      name: 'PostgreSQL restart',
      atSeconds: durationSeconds * 0.68,
      inject: async () => {
        await infrastructure.stopPostgres();
        await infrastructure.startPostgres();
      },
    },
  ];
}

async function waitForExit(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

/**
 * Injects the planned faults in turn from `startedAt`, each once the one before is over, its
 * recovery window included: on a slow machine a replacement still settling would otherwise meet the
 * next fault, and each error could no longer be told to one fault.
 */
export async function injectFaults(plan: FaultPlan[], startedAt: number, recoveryGraceMs: number, log: (line: string) => void): Promise<FaultWindow[]> {
  const windows: FaultWindow[] = [];
  for (const fault of plan) {
    const due = Math.max(startedAt + fault.atSeconds * 1000, windows.at(-1)?.windowEnd ?? 0);
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const injectedAt = Date.now();
    log(`[soak] +${((injectedAt - startedAt) / 1000).toFixed(1)} s fault: ${fault.name}`);
    const error = await fault.inject().then(
      () => undefined,
      (failure: Error) => failure.message.split('\n')[0],
    );
    const restoredAt = Date.now();
    log(`[soak] +${((restoredAt - startedAt) / 1000).toFixed(1)} s ${error ? `NOT restored (${error})` : 'restored'} after ${((restoredAt - injectedAt) / 1000).toFixed(1)} s: ${fault.name}`);
    windows.push({ name: fault.name, injectedAt, restoredAt, windowEnd: restoredAt + recoveryGraceMs, error });
  }
  return windows;
}
