/**
 * Student's t upper tail (src/stats/student-t.ts) against closed forms (ν = 1, 2, 3), published critical
 * values, the normal limit and far tails; Welch's test against a hand-computed example.
 */
import { describe, expect, it } from 'vitest';
import { normalLogUpperTail } from '../../src/stats/index.js';
import { logGamma, logIncompleteBeta, studentTLogUpperTail, studentTUpperTail, welchTTest } from '../../src/stats/student-t.js';

describe('Student t upper tail', () => {
  it('matches the closed forms for ν = 1 (Cauchy), 2 and 3 over a range of t', () => {
    for (const t of [-30, -4, -1.5, -0.3, 0, 0.2, 1, 2.5, 7, 40, 1e3]) {
      expect(studentTUpperTail(t, 1)).toBeCloseTo(0.5 - Math.atan(t) / Math.PI, 13);
      expect(studentTUpperTail(t, 2)).toBeCloseTo(0.5 * (1 - t / Math.sqrt(t * t + 2)), 13);
      const s = t / Math.sqrt(3);
      expect(studentTUpperTail(t, 3)).toBeCloseTo(0.5 - (s / (1 + s * s) + Math.atan(s)) / Math.PI, 13);
    }
  });

  it('relative accuracy in the far tail (ν = 2: exact 0.5·(1 − t/r) = 1/(r² + t·r), r = √(t²+2), free of cancellation)', () => {
    for (const t of [1e2, 1e4, 1e6]) {
      const r = Math.sqrt(t * t + 2);
      const exact = 1 / (t * t + 2 + t * r);
      expect(studentTUpperTail(t, 2) / exact).toBeCloseTo(1, 10);
    }
  });

  it('gives the published critical values (one-sided 0.05, 0.025, 0.01, 0.001)', () => {
    const table: [number, number, number][] = [
      [1.812461123, 10, 0.05],
      [2.228138852, 10, 0.025],
      [3.364929997, 5, 0.01],
      [2.457261531, 30, 0.01],
      [3.385184866, 30, 0.001],
      [12.70620474, 1, 0.025],
      [1.660234326, 100, 0.05],
    ];
    for (const [t, nu, p] of table) expect(studentTUpperTail(t, nu)).toBeCloseTo(p, 8);
  });

  it('tends to the normal tail for large ν, and stays finite far below 1e-300', () => {
    // The t tail exceeds the normal one by O(t⁴/ν) in log: 1e-5 at ν = 1e7, t = 4.
    for (const t of [0.5, 2, 4]) expect(Math.abs(studentTLogUpperTail(t, 1e7) - normalLogUpperTail(t))).toBeLessThan(2e-5);
    const ln = studentTLogUpperTail(1e4, 200);
    expect(Number.isFinite(ln)).toBe(true);
    expect(ln / Math.LN10).toBeLessThan(-300);
  });

  it('ln Γ and the incomplete beta at known points', () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(10)).toBeCloseTo(Math.log(362880), 12);
    expect(logGamma(0.1)).toBeCloseTo(Math.log(9.513507698668732), 12);
    // I_x(1, b) = 1 − (1 − x)^b ; I_x(a, 1) = x^a
    expect(Math.exp(logIncompleteBeta(0.3, 1, 4))).toBeCloseTo(1 - 0.7 ** 4, 14);
    expect(Math.exp(logIncompleteBeta(0.8, 3.5, 1))).toBeCloseTo(0.8 ** 3.5, 14);
    expect(() => logIncompleteBeta(1.2, 1, 1)).toThrow(/x must be in \[0, 1\]/);
  });
});

describe('Welch one-sided t-test', () => {
  it('computes t, the Welch–Satterthwaite df and the one-sided p of a hand-worked example', () => {
    // a: mean 5, var 2.5 (n 5); b: mean 3, var 5/6 (n 4)
    const r = welchTTest([3, 4, 5, 6, 7], [2, 2.5, 3.5, 4]);
    const b = [2, 2.5, 3.5, 4];
    const mb = 3;
    const vb = b.reduce((s, x) => s + (x - mb) ** 2, 0) / 3;
    expect(vb).toBeCloseTo(0.8333333333, 9);
    const se2 = 2.5 / 5 + vb / 4;
    expect(r.t).toBeCloseTo(2 / Math.sqrt(se2), 12);
    expect(r.df).toBeCloseTo(se2 ** 2 / ((2.5 / 5) ** 2 / 4 + (vb / 4) ** 2 / 3), 12);
    expect(r.log10p).toBeCloseTo(studentTLogUpperTail(r.t, r.df) / Math.LN10, 14);
    expect(10 ** r.log10p).toBeGreaterThan(0.01);
    expect(10 ** r.log10p).toBeLessThan(0.05);
    // The other direction is the complement.
    expect(10 ** welchTTest(b, [3, 4, 5, 6, 7]).log10p + 10 ** r.log10p).toBeCloseTo(1, 12);
  });

  it('returns no evidence (p = 1) when neither sample varies, and refuses samples of one value', () => {
    expect(welchTTest([1, 1], [1, 1]).log10p).toBe(0);
    expect(() => welchTTest([1], [1, 2])).toThrow(/at least 2 values/);
  });
});
