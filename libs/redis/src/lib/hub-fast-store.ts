import { MessagePort } from 'node:worker_threads';
import { HubEndpoint } from '@multipult/embedded';
import { AdmissionCheck, AdmissionDecision, FastStore, FastStoreWrite, RateLimitDecision } from './fast-store';

const CHANNEL = 'fast-store';

/** A service worker's view of the embedded launcher's one in-process store. */
export class HubFastStore implements FastStore {
  readonly kind = 'memory' as const;
  private readonly hub: HubEndpoint;

  constructor(port: MessagePort) {
    this.hub = new HubEndpoint(port, CHANNEL);
  }

  get(key: string): Promise<string | null> {
    return this.hub.call('get', key);
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.hub.call('set', key, value, ttlMs);
  }

  del(key: string): Promise<void> {
    return this.hub.call('del', key);
  }

  exists(key: string): Promise<boolean> {
    return this.hub.call('exists', key);
  }

  getMany(keys: string[]): Promise<(string | null)[]> {
    return this.hub.call('getMany', keys);
  }

  writeMany(writes: FastStoreWrite[]): Promise<void> {
    return this.hub.call('writeMany', writes);
  }

  increment(key: string, by: number, ttlMs: number): Promise<number> {
    return this.hub.call('increment', key, by, ttlMs);
  }

  admit(check: AdmissionCheck): Promise<AdmissionDecision> {
    return this.hub.call('admit', check);
  }

  hitSlidingWindow(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
    return this.hub.call('hitSlidingWindow', key, limit, windowMs);
  }

  touchMember(key: string, member: string, ttlMs: number): Promise<number> {
    return this.hub.call('touchMember', key, member, ttlMs);
  }

  removeMember(key: string, member: string): Promise<number> {
    return this.hub.call('removeMember', key, member);
  }

  ping(): Promise<void> {
    return this.hub.call('ping');
  }

  async close(): Promise<void> {
    // The store belongs to the launcher; a service shutting down leaves it to the others.
  }
}

/** The launcher's side: answers every worker's store calls from one store. */
export function serveFastStore(port: MessagePort, store: FastStore): void {
  new HubEndpoint(port, CHANNEL).handle({
    get: (key: string) => store.get(key),
    set: (key: string, value: string, ttlMs?: number) => store.set(key, value, ttlMs),
    del: (key: string) => store.del(key),
    exists: (key: string) => store.exists(key),
    getMany: (keys: string[]) => store.getMany(keys),
    writeMany: (writes: FastStoreWrite[]) => store.writeMany(writes),
    increment: (key: string, by: number, ttlMs: number) => store.increment(key, by, ttlMs),
    admit: (check: AdmissionCheck) => store.admit(check),
    hitSlidingWindow: (key: string, limit: number, windowMs: number) => store.hitSlidingWindow(key, limit, windowMs),
    touchMember: (key: string, member: string, ttlMs: number) => store.touchMember(key, member, ttlMs),
    removeMember: (key: string, member: string) => store.removeMember(key, member),
    ping: () => store.ping(),
  });
}
