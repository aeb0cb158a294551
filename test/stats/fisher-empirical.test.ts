import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.js';
import { empiricalLog10P, empiricalPValue } from '../../src/stats/empirical.js';
import { chiSquareEvenLogSf, fisherCombineLog10 } from '../../src/stats/fisher.js';

describe('Fisher combination', () => {
  it('is the identity for one p-value', () => {
    for (const l of [0, -0.3, -5, -10000]) expect(fisherCombineLog10([l])).toBeCloseTo(l, 9);
  });

  it('matches the closed form for two: p = x(1 − ln x), x = p₁p₂ (also at 10^-10000)', () => {
    const x = 0.1 * 0.1;
    expect(10 ** fisherCombineLog10([-1, -1])).toBeCloseTo(x * (1 - Math.log(x)), 14);
    const lnX = -20000 * Math.LN10;
    expect(fisherCombineLog10([-10000, -10000])).toBeCloseTo((lnX + Math.log(1 - lnX)) / Math.LN10, 9);
  });

  it('chi-square(2) tail is e^{-x/2}', () => {
    expect(chiSquareEvenLogSf(7, 1)).toBeCloseTo(-3.5, 14);
    expect(chiSquareEvenLogSf(0, 3)).toBe(0);
    expect(() => fisherCombineLog10([])).toThrow(RangeError);
    expect(() => fisherCombineLog10([0.2])).toThrow(RangeError);
  });

  it('combined p-values are uniform under H0 (sanity: fraction ≤ 0.05 near 0.05)', () => {
    const rng = new Rng('fisher-null');
    let hits = 0;
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const ps = Array.from({ length: 4 }, () => Math.log10(1 - rng.float()));
      if (fisherCombineLog10(ps) <= Math.log10(0.05)) hits++;
    }
    expect(Math.abs(hits / trials - 0.05)).toBeLessThan(4 * Math.sqrt((0.05 * 0.95) / trials));
  });
});

describe('empirical-null p-value', () => {
  it('is (1 + r) / (M + 1), ties counting against the user', () => {
    expect(empiricalPValue(3, [0, 1, 3, 4])).toBeCloseTo(3 / 5, 15);
    expect(empiricalPValue(10, Array<number>(999).fill(0))).toBeCloseTo(1e-3, 15);
    expect(empiricalLog10P(0, [0, 0, 0])).toBe(0);
  });

  /**
   * 2,000 simulated null models: a model independent of the secret answers each of n = 10 queries. Signatures
   * are uniform over a tiny set (so hits and ties are frequent: the hard case), and the model is biased towards
   * one answer (sharper than the generator: the case where the base-model null fails). The empirical p must
   * still satisfy P(p ≤ α) ≤ α up to binomial noise.
   */
  it('is valid on 2,000 simulated null models: P(p ≤ α) ≤ α + noise for α ∈ {0.01, 0.05}', () => {
    const rng = new Rng('empirical-null-validity');
    const models = 2000;
    const n = 10;
    const M = 99;
    const V = 3;
    const ps: number[] = [];
    for (let t = 0; t < models; t++) {
      const outputs = Array.from({ length: n }, () => (rng.float() < 0.6 ? 0 : rng.int(V)));
      const planted = Array.from({ length: n }, () => rng.int(V));
      const k = planted.filter((s, i) => s === outputs[i]).length;
      const counter = Array.from({ length: M }, () => {
        let hits = 0;
        for (let i = 0; i < n; i++) if (rng.int(V) === outputs[i]) hits++;
        return hits;
      });
      ps.push(empiricalPValue(k, counter));
    }
    for (const alpha of [0.01, 0.05]) {
      const rate = ps.filter((p) => p <= alpha).length / models;
      const noise = 3 * Math.sqrt((alpha * (1 - alpha)) / models);
      expect(rate, `α=${alpha}: rate ${rate}`).toBeLessThanOrEqual(alpha + noise);
      // Not vacuous: the test can reject at all (the p-values reach below α for some null models).
      expect(rate).toBeGreaterThan(0);
    }
  });
});
