import { describe, expect, it } from 'vitest';
import { binomialLogCdf, binomialLogSf } from '../../src/stats/binomial.js';
import { clopperPearson, normalLogUpperTail, normalQuantile, wilson } from '../../src/stats/intervals.js';

describe('Clopper-Pearson', () => {
  it('matches closed forms at the edges', () => {
    // k = 0: upper = 1 − (α/2)^{1/n}; k = n: lower = (α/2)^{1/n}.
    expect(clopperPearson(0, 10).upper).toBeCloseTo(1 - 0.025 ** (1 / 10), 12);
    expect(clopperPearson(0, 10).lower).toBe(0);
    expect(clopperPearson(10, 10).lower).toBeCloseTo(0.025 ** (1 / 10), 12);
    expect(clopperPearson(10, 10).upper).toBe(1);
    expect(clopperPearson(0, 0)).toEqual({ lower: 0, upper: 1 });
  });

  it('inverts the exact tails at each end', () => {
    for (const [k, n] of [[5, 10], [1, 1000], [37, 200], [999, 1000]] as const) {
      const { lower, upper } = clopperPearson(k, n, 0.95);
      expect(Math.exp(binomialLogSf(k, n, lower))).toBeCloseTo(0.025, 10);
      expect(Math.exp(binomialLogCdf(k, n, upper))).toBeCloseTo(0.025, 10);
      expect(lower).toBeLessThan(k / n);
      expect(upper).toBeGreaterThan(k / n);
    }
    // A published value: k = 5, n = 10 → [0.187086, 0.812914].
    const ci = clopperPearson(5, 10);
    expect(ci.lower).toBeCloseTo(0.187086, 6);
    expect(ci.upper).toBeCloseTo(0.812914, 6);
  });

  it('keeps relative precision for tiny bounds (k = 1, n = 10⁸)', () => {
    const { lower } = clopperPearson(1, 100_000_000);
    expect(lower).toBeGreaterThan(0);
    expect(Math.exp(binomialLogSf(1, 100_000_000, lower)) / 0.025).toBeCloseTo(1, 9);
  });

  it('rejects bad counts', () => {
    expect(() => clopperPearson(11, 10)).toThrow(RangeError);
    expect(() => clopperPearson(1, 10, 1.5)).toThrow(RangeError);
  });
});

describe('Wilson and the normal quantile', () => {
  it('normal quantile and tail are exact to ~1e-12', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489, 11);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963984540054, 12);
    expect(normalQuantile(0.5)).toBe(0);
    // P(Z ≥ 10) = 7.619853024160527e-24
    expect(Math.exp(normalLogUpperTail(10)) / 7.619853024160527e-24).toBeCloseTo(1, 10);
    expect(Math.exp(normalLogUpperTail(1)) / 0.15865525393145707).toBeCloseTo(1, 12);
  });

  it('matches the closed form', () => {
    const { lower, upper } = wilson(5, 10);
    expect(lower).toBeCloseTo(0.236593, 6);
    expect(upper).toBeCloseTo(0.763407, 6);
    expect(wilson(0, 20).lower).toBe(0);
  });

  it('Wilson: k = 0 gives a lower bound of exactly 0 and k = n an upper bound of exactly 1', () => {
    for (const n of [1, 2, 3, 7, 10, 1000]) {
      expect(wilson(0, n).lower).toBe(0);
      expect(wilson(n, n).upper).toBe(1);
    }
  });
});
