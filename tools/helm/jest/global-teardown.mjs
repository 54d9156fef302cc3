import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  if (globalThis.__MULTIPULT_HELM_SCRATCH__) await rm(globalThis.__MULTIPULT_HELM_SCRATCH__, { recursive: true, force: true });
}
