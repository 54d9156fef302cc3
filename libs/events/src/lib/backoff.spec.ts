import { backoffCeiling, equalJitterDelay, fullJitterDelay } from './backoff';

const options = { initialMs: 100, maxMs: 30_000 };

describe('backoff', () => {
  it('doubles the ceiling per retry up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((retry) => backoffCeiling(retry, options))).toEqual([100, 200, 400, 800, 1_600]);
    expect(backoffCeiling(9, options)).toBe(25_600);
    expect(backoffCeiling(10, options)).toBe(30_000);
    expect(backoffCeiling(5_000, options)).toBe(30_000);
  });

  it('full jitter spreads delays over [0, ceiling]', () => {
    expect(fullJitterDelay(3, options, () => 0)).toBe(0);
    expect(fullJitterDelay(3, options, () => 0.5)).toBe(200);
    expect(fullJitterDelay(3, options, () => 0.999999)).toBe(399);
  });

  it('equal jitter never waits less than half the ceiling', () => {
    expect(equalJitterDelay(3, options, () => 0)).toBe(200);
    expect(equalJitterDelay(3, options, () => 0.999999)).toBe(399);
    expect(equalJitterDelay(50, options, () => 0)).toBe(15_000);
  });

  it('stays within bounds with the real random source', () => {
    for (let retry = 1; retry <= 20; retry++) {
      const ceiling = backoffCeiling(retry, options);
      expect(fullJitterDelay(retry, options)).toBeLessThanOrEqual(ceiling);
      expect(equalJitterDelay(retry, options)).toBeGreaterThanOrEqual(ceiling / 2);
    }
  });
});
