import { Platform } from './platform';

/** Boots one named configuration: a platform and the local servers it talks to, which its stop() stops too. */
export type PlatformStarter = () => Promise<Platform>;

/** Where the test environment puts the pool's acquire function in each test file's global scope. */
const ACQUIRE_GLOBAL = '__multipultAcquirePlatform';
const POOL_KEY = Symbol.for('multipult.platformPool');

export interface PlatformBoot {
  name: string;
  bootMs: number;
}

/**
 * Platforms shared by the test files of one jest worker, one per named configuration. It lives
 * outside jest's per-file module registry (the test environment module holds it), so child
 * processes outlive a file. At most `maxAlive` run at once: asking for another stops the least
 * recently used one, which is why the platform sequencer runs the files of one configuration
 * together. Files never stop a platform; the global teardown (or process exit) stops them all.
 */
export class PlatformPool {
  /** Booting or running platforms by configuration, least recently used first. */
  private readonly alive = new Map<string, Promise<Platform>>();
  /** The booted platforms themselves (files get copies without stop()). */
  private readonly running = new Map<string, Platform>();
  readonly boots: PlatformBoot[] = [];

  constructor(
    private readonly configurations: Readonly<Record<string, PlatformStarter>>,
    private readonly maxAlive = 1,
  ) {}

  async acquire(name: string): Promise<Platform> {
    const existing = this.alive.get(name);
    if (existing) {
      // Most recently used last: the first entry is the one to stop when the bound is reached.
      this.alive.delete(name);
      this.alive.set(name, existing);
      return existing;
    }
    const start = this.configurations[name];
    if (!start) throw new Error(`no platform configuration named ${name} (known: ${Object.keys(this.configurations).join(', ')})`);
    while (this.alive.size >= this.maxAlive) await this.release(this.alive.keys().next().value as string);
    const startedAt = Date.now();
    const booting = start().then((platform) => {
      this.running.set(name, platform);
      this.boots.push({ name, bootMs: Date.now() - startedAt });
      return lent(platform);
    });
    this.alive.set(name, booting);
    // A failed boot is not kept: the next file that asks tries again.
    booting.catch(() => this.alive.delete(name));
    return booting;
  }

  /** Stops every platform (the global teardown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.alive.keys()].map((name) => this.release(name)));
  }

  /** Kills every process at once (process exit, where nothing asynchronous runs). */
  killAll(): void {
    this.running.forEach((platform) => platform.kill());
  }

  private async release(name: string): Promise<void> {
    const booting = this.alive.get(name);
    this.alive.delete(name);
    await booting?.catch(() => undefined);
    const platform = this.running.get(name);
    this.running.delete(name);
    await platform?.stop();
  }
}

/** The platform as files see it: theirs to use, the pool's to stop. */
function lent(platform: Platform): Platform {
  return {
    ...platform,
    stop: () => Promise.reject(new Error('a pooled platform is stopped by the pool (global teardown), not by a test file')),
  };
}

/**
 * The pool of this process, created on first use; the test environment calls this once per file
 * and exposes `acquire` to the file's scope. Process exit kills whatever is still running.
 */
export function platformPool(configurations: Readonly<Record<string, PlatformStarter>>, maxAlive?: number): PlatformPool {
  const holder = globalThis as typeof globalThis & { [POOL_KEY]?: PlatformPool };
  if (!holder[POOL_KEY]) {
    const pool = new PlatformPool(configurations, maxAlive);
    holder[POOL_KEY] = pool;
    process.once('exit', () => pool.killAll());
  }
  return holder[POOL_KEY];
}

/** The pool of this process if one was created (for the global teardown). */
export function existingPlatformPool(): PlatformPool | undefined {
  return (globalThis as typeof globalThis & { [POOL_KEY]?: PlatformPool })[POOL_KEY];
}

/** Installs the pool's acquire function in a test file's global scope (done by the test environment). */
export function exposePlatformPool(scope: Record<string, unknown>, pool: PlatformPool): void {
  // A function, not the pool: jest clears the properties of objects a file's global held when the file ends.
  scope[ACQUIRE_GLOBAL] = (name: string) => pool.acquire(name);
}

/** In a test file: the shared platform of a configuration, booted by the first file that asks. */
export function usePooledPlatform<P extends Platform = Platform>(name: string): Promise<P> {
  const acquire = (globalThis as Record<string, unknown>)[ACQUIRE_GLOBAL] as ((name: string) => Promise<P>) | undefined;
  if (!acquire) {
    throw new Error('no platform pool: run the file with the platform test environment (apps/platform-e2e/jest.config.js)');
  }
  return acquire(name);
}

/**
 * A platform together with the local servers it talks to (SMTP, an OpenID provider, a trace
 * collector): started first, handed to `start` for its configuration, stopped after the platform.
 */
export async function withLocalServers<S extends Record<string, { stop(): Promise<void> }>>(
  startServers: () => Promise<S>,
  start: (servers: S) => Promise<Platform>,
): Promise<Platform & S> {
  const servers = await startServers();
  const stopServers = () => Promise.all(Object.values(servers).map((server) => server.stop()));
  try {
    const platform = await start(servers);
    return {
      ...servers,
      ...platform,
      stop: async () => {
        await platform.stop();
        await stopServers();
      },
    };
  } catch (error) {
    await stopServers();
    throw error;
  }
}
