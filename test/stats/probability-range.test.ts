/**
 * Every tail is a probability: log p ≤ 0 exactly, even where rounding would push a sum of terms past 1 (k at or
 * below the mode, a q of 1 among the bounds). A log p of +1e-17 is not harmless: Fisher's combination rejects it,
 * so a p = 1 verification would crash the combination of several.
 */
import { describe, expect, it } from 'vitest';
import { binomialLog10Sf, binomialLogCdf, binomialLogSf } from '../../src/stats/binomial.js';
import { chiSquareEvenLogSf, fisherCombineLog10 } from '../../src/stats/fisher.js';
import { poissonBinomialLog10Sf } from '../../src/stats/poisson-binomial.js';

describe('tails never exceed probability 1', () => {
  it('binomial upper and lower tails: log p ≤ 0 over a grid of n, k, p', () => {
    for (let n = 1; n <= 40; n++) {
      for (let k = 0; k <= n; k++) {
        for (const p of [0.01, 0.1, 0.5, 0.9, 0.99]) {
          expect(binomialLogSf(k, n, p), `sf k=${k} n=${n} p=${p}`).toBeLessThanOrEqual(0);
          expect(binomialLogCdf(k, n, p), `cdf k=${k} n=${n} p=${p}`).toBeLessThanOrEqual(0);
        }
      }
    }
  });

  it('Poisson-binomial with a bound of 1 among tiny ones gives exactly log p = 0 for k = 1', () => {
    expect(poissonBinomialLog10Sf([-1e5, -2, -0.5, 0], 1)).toBe(0);
    expect(poissonBinomialLog10Sf(Array<number>(200).fill(-1e-12), 1)).toBeLessThanOrEqual(0);
  });

  it('Fisher combines a p = 1 tail with others, and its own output is ≤ 0', () => {
    const pOne = poissonBinomialLog10Sf([-1e5, -2, -0.5, 0], 1);
    expect(() => fisherCombineLog10([pOne, binomialLog10Sf(1, 9, 0.99), -5])).not.toThrow();
    expect(fisherCombineLog10([-1e-15, -1e-15])).toBeLessThanOrEqual(0);
    expect(chiSquareEvenLogSf(1e-14, 2)).toBeLessThanOrEqual(0);
  });
});

describe('Fisher at p = 0', () => {
  it('a p-value of 0 (log10 p = −∞, which the exact tails return for impossible counts) combines to 0, not NaN', () => {
    const zero = poissonBinomialLog10Sf([-Infinity, -Infinity], 1);
    expect(zero).toBe(-Infinity);
    expect(fisherCombineLog10([zero, -1])).toBe(-Infinity);
    expect(fisherCombineLog10([binomialLog10Sf(1, 5, 0)])).toBe(-Infinity);
    expect(chiSquareEvenLogSf(Infinity, 3)).toBe(-Infinity);
    // −2 Σ ln p overflowing a double is a p of 0 too.
    expect(fisherCombineLog10([-1e308, -1e308])).toBe(-Infinity);
  });
});
