import { describe, expect, it } from 'vitest';
import { binomialLog10Sf, binomialLogCdf, binomialLogPmf, binomialLogSf } from '../../src/stats/binomial.js';
import { LN10, logChoose, logFactorial } from '../../src/stats/log-space.js';
import { exactBinomialLog10Sf, exactBinomialSfTable, log10BigInt } from './exact.js';

const PS: [bigint, bigint][] = [[1n, 2n], [1n, 4n], [1n, 10n], [1n, 1000n], [999n, 1000n], [37n, 100n]];

describe('binomial upper tail (log space) against exact BigInt rationals', () => {
  for (const n of [10, 100, 2000]) {
    it(`agrees to 1e-9 in log10 at n = ${n} for every p and k across the range`, () => {
      let worst = 0;
      let checked = 0;
      for (const [c, d] of PS) {
        const p = Number(c) / Number(d);
        const ks = new Set([0, 1, 2, Math.floor(n * p), Math.floor(n * p) + 1, Math.floor(n / 2), Math.floor((9 * n) / 10), n - 1, n]);
        const sf = exactBinomialSfTable(n, c, d, ks);
        for (const k of ks) {
          if (k < 0 || k > n) continue;
          const exact = sf.get(k)!;
          const got = binomialLog10Sf(k, n, p);
          worst = Math.max(worst, Math.abs(got - exact));
          checked++;
          expect(Math.abs(got - exact), `n=${n} p=${c}/${d} k=${k}: got ${got}, exact ${exact}`).toBeLessThanOrEqual(1e-9);
        }
      }
      expect(checked).toBeGreaterThan(30);
      expect(worst).toBeLessThanOrEqual(1e-9);
    });
  }

  it('Bin(10000, 0.25), P(X ≥ 9000) = 10^-4133.52110345 (the exact rational; −4133.5211 to 4 decimals)', () => {
    const got = binomialLog10Sf(9000, 10000, 0.25);
    // −4133.5211 is the 4-decimal rounding; the exact BigInt value is −4133.521103449184.
    expect(got).toBeCloseTo(-4133.5211, 4);
    expect(Math.abs(got - -4133.521103449184)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(got - exactBinomialLog10Sf(9000, 10000, 1n, 4n))).toBeLessThanOrEqual(1e-9);
  });

  it('all 10 of 10 hits at q = 1e-4 gives log10 p = −40', () => {
    expect(Math.abs(binomialLog10Sf(10, 10, 1e-4) - -40)).toBeLessThanOrEqual(1e-9);
  });

  it('handles the edges: k ≤ 0, k > n, p ∈ {0, 1}', () => {
    expect(binomialLogSf(0, 5, 0.3)).toBe(0);
    expect(binomialLogSf(-3, 5, 0.3)).toBe(0);
    expect(binomialLogSf(6, 5, 0.3)).toBe(-Infinity);
    expect(binomialLogSf(1, 5, 0)).toBe(-Infinity);
    expect(binomialLogSf(5, 5, 1)).toBe(0);
    expect(binomialLogPmf(0, 5, 0)).toBe(0);
    expect(() => binomialLogSf(1, 5, 1.5)).toThrow(RangeError);
    expect(() => binomialLogSf(1, 5.5, 0.5)).toThrow(RangeError);
  });

  it('the lower tail is exact even for p far below the smallest double complement (1 − p rounds to 1)', () => {
    // P(X ≤ 0) = (1 − p)^n ≈ e^{−np}; P(X ≥ 1) ≈ n p.
    const p = 1e-20;
    expect(binomialLogCdf(0, 100, p)).toBeCloseTo(-100 * p, 30);
    expect(binomialLogSf(1, 100, p) / LN10).toBeCloseTo(Math.log10(100 * p), 12);
  });

  it('ln C(n, k) stays exact beyond the factorial table (n = 10⁸) and matches the table at its edge', () => {
    const n = 100_000_000;
    let direct = 0;
    for (let i = 0; i < 5; i++) direct += Math.log(n - i) - Math.log(i + 1);
    expect(logChoose(n, 5)).toBeCloseTo(direct, 7);
    expect(logChoose(n, n - 5)).toBeCloseTo(direct, 7);
    expect(logChoose(n, 0)).toBe(0);
    // Across the switch (2^20): Stirling against the compensated table.
    const edge = 1 << 20;
    expect(logFactorial(edge + 1) - logFactorial(edge)).toBeCloseTo(Math.log(edge + 1), 6);
    expect(logChoose(edge + 10, 3)).toBeCloseTo(Math.log(((edge + 10) * (edge + 9) * (edge + 8)) / 6), 7);
  });

  it('the log10 helper reads BigInts correctly', () => {
    expect(log10BigInt(10n ** 400n)).toBeCloseTo(400, 12);
    expect(log10BigInt(2n ** 1000n)).toBeCloseTo(1000 * Math.log10(2), 10);
  });
});
