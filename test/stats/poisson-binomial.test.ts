import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.js';
import { binomialLog10Sf } from '../../src/stats/binomial.js';
import { poissonBinomialLog10Sf } from '../../src/stats/poisson-binomial.js';
import { binomialPmfNumerators, exactPoissonBinomialLog10Sf, log10BigInt } from './exact.js';

const D = 1000n;

/** qᵢ = cᵢ/1000 with cᵢ drawn from a seeded stream, including some extreme ones. */
function draws(n: number, seed: string): bigint[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => BigInt(i % 7 === 0 ? 1 + rng.int(3) : i % 11 === 0 ? 997 + rng.int(3) : 1 + rng.int(999)));
}

describe('Poisson-binomial upper tail (log space) against exact BigInt rationals', () => {
  for (const n of [10, 100]) {
    it(`agrees to 1e-9 in log10 at n = ${n} for mixed qᵢ and every k`, () => {
      for (const seed of ['a', 'b']) {
        const cs = draws(n, `${seed}${n}`);
        const log10q = cs.map((c) => Math.log10(Number(c) / 1000));
        const ks = n === 10 ? Array.from({ length: 12 }, (_, k) => k - 1) : [0, 1, 5, 20, 40, 50, 60, 80, 95, 99, 100];
        for (const k of ks) {
          const exact = k <= 0 ? 0 : exactPoissonBinomialLog10Sf(cs, D, k);
          const got = poissonBinomialLog10Sf(log10q, k);
          expect(Math.abs(got - exact), `n=${n} k=${k}: got ${got}, exact ${exact}`).toBeLessThanOrEqual(1e-9);
        }
      }
    });
  }

  it('agrees to 1e-9 in log10 at n = 2000 (two groups of qᵢ, exact convolution of two binomials)', () => {
    const n1 = 1200;
    const n2 = 800;
    const c1 = 3n; // q = 0.003
    const c2 = 410n; // q = 0.41
    const pmf1 = binomialPmfNumerators(n1, c1, D);
    const pmf2 = binomialPmfNumerators(n2, c2, D);
    const sf2: bigint[] = new Array<bigint>(n2 + 2).fill(0n);
    for (let b = n2; b >= 0; b--) sf2[b] = sf2[b + 1]! + pmf2[b]!;
    const log10q = [...Array<number>(n1).fill(Math.log10(0.003)), ...Array<number>(n2).fill(Math.log10(0.41))];
    // Interleave so the DP does not see the groups in order.
    const mixed = new Rng('mix').shuffle(log10q);
    for (const k of [1, 100, 330, 500, 800, 1000, 1500, 1999, 2000]) {
      let num = 0n;
      for (let a = 0; a <= n1; a++) {
        const b = Math.max(0, k - a);
        if (b <= n2) num += pmf1[a]! * sf2[b]!;
      }
      const exact = log10BigInt(num) - 2000 * 3;
      const got = poissonBinomialLog10Sf(mixed, k);
      expect(Math.abs(got - exact), `k=${k}: got ${got}, exact ${exact}`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('equals the binomial when all qᵢ are equal (n = 10000, deep tail)', () => {
    const q = Array<number>(10000).fill(Math.log10(0.25));
    expect(Math.abs(poissonBinomialLog10Sf(q, 9000) - binomialLog10Sf(9000, 10000, 0.25))).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(poissonBinomialLog10Sf(q, 9000) - -4133.521103449184)).toBeLessThanOrEqual(1e-6);
  });

  it('reaches log10 p = −10,000 exactly at n = 10,000 (all hits at q = 0.1; and mixed qᵢ against the sum of logs)', () => {
    expect(Math.abs(poissonBinomialLog10Sf(Array<number>(10000).fill(-1), 10000) - -10000)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(binomialLog10Sf(10000, 10000, 0.1) - -10000)).toBeLessThanOrEqual(1e-9);
    const rng = new Rng('deep');
    const q = Array.from({ length: 10000 }, () => -0.5 - rng.float());
    const sum = q.reduce((s, x) => s + x, 0);
    expect(Math.abs(poissonBinomialLog10Sf(q, 10000) - sum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(sum) / 1000));
  });

  it('all 10 of 10 hits at qᵢ = 1e-4 → log10 p = −40', () => {
    expect(Math.abs(poissonBinomialLog10Sf(Array<number>(10).fill(-4), 10) - -40)).toBeLessThanOrEqual(1e-9);
  });

  it('works with qᵢ far below the smallest double (log10 q = −400 each)', () => {
    expect(poissonBinomialLog10Sf(Array<number>(30).fill(-400), 30)).toBeCloseTo(-12000, 6);
    // P(S ≥ 1) ≈ Σ qᵢ = 30 · 10^-400
    expect(poissonBinomialLog10Sf(Array<number>(30).fill(-400), 1)).toBeCloseTo(Math.log10(30) - 400, 9);
  });

  it('handles edges and rejects bad input', () => {
    expect(poissonBinomialLog10Sf([-1, -2], 0)).toBe(0);
    expect(poissonBinomialLog10Sf([-1, -2], 3)).toBe(-Infinity);
    expect(poissonBinomialLog10Sf([0, 0, -1], 2)).toBe(0);
    expect(poissonBinomialLog10Sf([], 0)).toBe(0);
    expect(() => poissonBinomialLog10Sf([0.5], 1)).toThrow(RangeError);
    expect(() => poissonBinomialLog10Sf([Number.NaN], 1)).toThrow(RangeError);
  });
});
