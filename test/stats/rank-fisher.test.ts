import { describe, expect, it } from 'vitest';
import { chiSquareEvenLogSf } from '../../src/stats/fisher.js';
import { empiricalPValue } from '../../src/stats/empirical.js';
import { discreteFisherLogSf, rankFisherLog10 } from '../../src/stats/rank-fisher.js';

/** P(T' ≥ t) by enumerating all (M+1)^n rank tuples (T' = Σ −ln(Rⱼ/(M+1))), with a tolerance of `tol` on T'. */
function bruteTail(t: number, n: number, m: number, tol = 1e-12): number {
  let hit = 0;
  let total = 0;
  const ranks = new Array<number>(n).fill(1);
  for (;;) {
    const tt = ranks.reduce((s, r) => s - Math.log(r / (m + 1)), 0);
    total++;
    if (tt >= t - tol) hit++;
    let j = 0;
    while (j < n && ranks[j] === m + 1) ranks[j++] = 1;
    if (j === n) break;
    ranks[j]!++;
  }
  return hit / total;
}

describe('discrete Fisher tail of rank p-values', () => {
  it('equals brute-force enumeration at every attainable T (small M, n), never below it', () => {
    for (const [n, m] of [[1, 4], [2, 3], [3, 4], [4, 2], [2, 9]] as const) {
      // Every attainable T (the observed tuple's own T: ties count for the tail) and points between them.
      const ts = new Set<number>();
      const ranks = new Array<number>(n).fill(1);
      for (let c = 0; c < (m + 1) ** n; c++) {
        let x = c;
        for (let j = 0; j < n; j++) { ranks[j] = 1 + (x % (m + 1)); x = Math.floor(x / (m + 1)); }
        const t = ranks.reduce((s, r) => s - Math.log(r / (m + 1)), 0);
        ts.add(t);
        ts.add(t + 0.37);
      }
      for (const t of ts) {
        const exact = bruteTail(t, n, m);
        const grid = Math.exp(discreteFisherLogSf(t, n, m, 1e-5));
        expect(grid, `n=${n} M=${m} t=${t}`).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
        // Tight: at most the mass the grid moves across t (T' within n·h below t).
        expect(grid, `n=${n} M=${m} t=${t}`).toBeLessThanOrEqual(bruteTail(t - n * 1e-5 - 1e-9, n, m, 0) * (1 + 1e-12) + 1e-15);
      }
    }
  });

  it('the coarse default grid stays an upper bound and within n·h of the exact tail', () => {
    const n = 3;
    const m = 19;
    for (const t of [0.5, 2, 4.1, 6.3, 8.987196820661973]) {
      const exact = bruteTail(t, n, m);
      const grid = Math.exp(discreteFisherLogSf(t, n, m));
      expect(grid).toBeGreaterThanOrEqual(exact * (1 - 1e-12));
      expect(grid).toBeLessThanOrEqual(bruteTail(t - n * 1e-3 - 1e-9, n, m, 0) + 1e-15);
    }
  });

  it('reaches the floor (M+1)^−n when every rank is 1, and is 1 at T = 0', () => {
    expect(rankFisherLog10(new Array(10).fill(1 / 1000), 999)).toBeCloseTo(-30, 9);
    expect(rankFisherLog10([1, 1, 1], 99)).toBe(0);
  });

  it('is tighter than the χ²(2n) tail, which is also valid for discrete pᵢ', () => {
    const ps = new Array(10).fill(1 / 1000);
    const chi = chiSquareEvenLogSf(-2 * ps.reduce((s, p) => s + Math.log(p), 0), 10) / Math.LN10;
    expect(rankFisherLog10(ps, 999)).toBeLessThan(chi - 10);
  });

  it('refuses bad input', () => {
    expect(() => rankFisherLog10([], 9)).toThrow(/at least one/);
    expect(() => rankFisherLog10([0], 9)).toThrow(/\(0, 1\]/);
    expect(() => discreteFisherLogSf(1, 2, 0)).toThrow(/M must be/);
  });
});

describe('rank p-values (empiricalPValue, as the rank null uses it)', () => {
  it('counts ties and NaN counterfactuals against the user; a NaN observation gets p = 1', () => {
    expect(empiricalPValue(-5, [-6, -7, -8])).toBe(0.25);
    expect(empiricalPValue(-5, [-5, -7, -8])).toBe(0.5); // a tie ranks above
    expect(empiricalPValue(-5, [NaN, -7, -8])).toBe(0.5);
    expect(empiricalPValue(NaN, [-1, -7, -8])).toBe(1);
  });
});
