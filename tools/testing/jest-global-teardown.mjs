export default async function globalTeardown() {
  await globalThis.__MULTIPULT_INFRA__?.stop();
}
