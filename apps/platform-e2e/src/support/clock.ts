import { eventually } from '@multipult/testing';

/**
 * Waits until the clock is in a later whole second than now. Token times (iat) and revocation
 * cut-offs have second precision: what happens after this is in a later second than anything before.
 */
export async function nextClockSecond(): Promise<void> {
  const current = Math.floor(Date.now() / 1000);
  await eventually('the next second', () => Math.floor(Date.now() / 1000) > current, 2_000);
}
