import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  /** Sets how far the work is; `total` may grow as the work finds out its size. */
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

/**
 * A bar on stderr, so stdout stays the command's result (JSON lines a script can read). On a
 * stream that is not a terminal cli-progress draws nothing.
 */
export function progressBar(label: string, stream: NodeJS.WritableStream = process.stderr): ProgressBar {
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {detail}`, stream, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, detail = '') {
      if (!started) {
        bar.start(total, done, { detail });
        started = true;
        return;
      }
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(done, { detail });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Runs `work` with a bar that is stopped however the work ends. */
export async function withProgress<T>(label: string, work: (bar: ProgressBar) => Promise<T>): Promise<T> {
  const bar = progressBar(label);
  try {
    return await work(bar);
  } finally {
    bar.stop();
  }
}
