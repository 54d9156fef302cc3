import type { SupergraphManager, SupergraphSdlHook } from '@apollo/gateway';
import { Supergraph } from '@apollo/federation-internals';
import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { counter, gauge } from '@multipult/observability';

const reloads = () =>
  counter({
    name: 'gateway_supergraph_reloads_total',
    help: 'Supergraph files loaded after start-up (success) or refused (failure), by outcome',
    labelNames: ['outcome'] as const,
  });

const reloadFailing = () =>
  gauge({
    name: 'gateway_supergraph_reload_failing',
    help: '1 while the supergraph file on disk is refused and an older supergraph is served, else 0',
    labelNames: [] as const,
  });

const loadedAt = () =>
  gauge({
    name: 'gateway_supergraph_loaded_timestamp_seconds',
    help: 'When the supergraph being served was loaded (Unix time)',
    labelNames: [] as const,
  });

/** What one look at the file found. */
export type SupergraphCheck = 'unchanged' | 'loaded' | 'refused';

export interface SupergraphFileManagerOptions {
  path: string;
  /** How often the file is read again; 0 reads it once at start-up. */
  watchIntervalMs: number;
  /** Called with every supergraph the gateway serves, after it took it (the realtime routing table). */
  onLoaded?: (supergraphSdl: string) => void;
}

type SupergraphSdlHookOptions = Parameters<SupergraphSdlHook>[0];

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** Throws, naming the problem, unless the SDL is a supergraph the gateway can plan queries on. */
export function validateSupergraph(supergraphSdl: string): void {
  Supergraph.build(supergraphSdl, { validateSupergraph: true }).apiSchema();
}

/**
 * Serves the supergraph of a file and takes a new one when the file's content changes. The file is
 * polled by content hash rather than watched: a Kubernetes ConfigMap update swaps a `..data`
 * symlink, which file events report unreliably. A file that is not a usable supergraph is
 * refused (logged, counted, `gateway_supergraph_reload_failing` 1) and the previous supergraph
 * stays; at start-up it fails the start, as there is nothing to fall back to.
 */
export class SupergraphFileManager implements SupergraphManager {
  private readonly logger = new Logger(SupergraphFileManager.name);
  private update?: SupergraphSdlHookOptions['update'];
  private timer?: NodeJS.Timeout;
  /** Hash of the supergraph being served. */
  private servedHash?: string;
  /** Hash of the file content last looked at (served or refused), so a refused file is reported once. */
  private seenHash?: string;
  private checking?: Promise<SupergraphCheck>;

  constructor(private readonly options: SupergraphFileManagerOptions) {}

  async initialize({ update }: SupergraphSdlHookOptions): Promise<{ supergraphSdl: string; cleanup: () => Promise<void> }> {
    const supergraphSdl = await readFile(this.options.path, 'utf8');
    try {
      validateSupergraph(supergraphSdl);
    } catch (error) {
      throw new Error(`${this.options.path} is not a usable supergraph: ${(error as Error).message}`);
    }
    this.update = update;
    this.served(supergraphSdl);
    for (const outcome of ['success', 'failure'] as const) reloads().inc({ outcome }, 0);
    if (this.options.watchIntervalMs > 0) {
      this.timer = setInterval(() => void this.check(), this.options.watchIntervalMs);
      this.timer.unref();
    }
    return { supergraphSdl, cleanup: async () => this.stop() };
  }

  /** Reads the file once and takes its supergraph if it changed (one look at a time). */
  check(): Promise<SupergraphCheck> {
    this.checking ??= this.checkFile().finally(() => (this.checking = undefined));
    return this.checking;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async checkFile(): Promise<SupergraphCheck> {
    const update = this.update;
    if (!update) throw new Error('the supergraph manager is not initialized');
    let supergraphSdl: string;
    try {
      supergraphSdl = await readFile(this.options.path, 'utf8');
    } catch (error) {
      // Not remembered as seen: the file is read again at the next look.
      return this.refuse(`cannot be read: ${(error as Error).message}`, undefined);
    }
    const hash = hashOf(supergraphSdl);
    if (hash === this.seenHash) return 'unchanged';
    if (hash === this.servedHash) {
      // Back to what is served (a refused file was replaced by the previous one).
      this.seenHash = hash;
      reloadFailing().set(0);
      return 'unchanged';
    }
    try {
      validateSupergraph(supergraphSdl);
      // The gateway builds its schema and query planner from it and throws if it cannot.
      update(supergraphSdl);
    } catch (error) {
      return this.refuse((error as Error).message, hash);
    }
    this.served(supergraphSdl, hash);
    reloads().inc({ outcome: 'success' });
    this.logger.log(`loaded a new supergraph from ${this.options.path}`);
    return 'loaded';
  }

  private served(supergraphSdl: string, hash = hashOf(supergraphSdl)): void {
    this.servedHash = hash;
    this.seenHash = hash;
    this.options.onLoaded?.(supergraphSdl);
    reloadFailing().set(0);
    loadedAt().set(Date.now() / 1000);
  }

  private refuse(reason: string, hash: string | undefined): SupergraphCheck {
    this.seenHash = hash;
    reloads().inc({ outcome: 'failure' });
    reloadFailing().set(1);
    this.logger.error(`refused the supergraph file ${this.options.path}, still serving the previous supergraph: ${reason}`);
    return 'refused';
  }
}
