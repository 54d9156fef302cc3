import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/**
 * A loop over a Postgres work queue: one pass at start, then every `pollIntervalMs`, at once
 * after `nudge()` (something was queued), and never two passes at a time. A pass that returns
 * `true` (a full batch) is followed straight away by another.
 */
export abstract class QueueWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  protected stopped = false;

  protected abstract readonly pollIntervalMs: number;

  /** One pass; true when there may be more due work right away. */
  protected abstract pass(): Promise<boolean>;

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  nudge(): void {
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = undefined;
        const now = this.again;
        this.again = false;
        this.schedule(now ? 0 : this.pollIntervalMs);
      });
    }, delayMs);
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped && (await this.pass()));
    } catch (error) {
      this.logger.warn(`Queue pass failed: ${(error as Error).message}`);
    }
  }
}
