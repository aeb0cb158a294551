/**
 * Student's t upper tail in log space (for one-sided t-tests, e.g. dataset-inference's Welch test), through the
 * regularized incomplete beta function: for t ≥ 0, P(T_ν ≥ t) = ½ · I_{ν/(ν+t²)}(ν/2, ½). The incomplete beta
 * is the continued fraction of Numerical Recipes §6.4 (modified Lentz), evaluated in log space so that tails
 * far below 1e-300 stay finite; ln Γ is Lanczos (g = 7, 9 terms), accurate to ~1e-15 relative.
 */
import { log1mExp } from './log-space.js';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of I_x(a, b) (converges fast for x < (a + 1)/(a + b + 2)). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** ln I_x(a, b), the regularized incomplete beta function, for 0 ≤ x ≤ 1 and a, b > 0. */
export function logIncompleteBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`logIncompleteBeta: a and b must be > 0, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`logIncompleteBeta: x must be in [0, 1], got ${x}`);
  if (x === 0) return -Infinity;
  if (x === 1) return 0;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return lnFront + Math.log(betaContinuedFraction(x, a, b)) - Math.log(a);
  // I_x(a, b) = 1 − I_{1−x}(b, a): the complement's continued fraction converges here.
  return log1mExp(lnFront + Math.log(betaContinuedFraction(1 - x, b, a)) - Math.log(b));
}

/** ln P(T ≥ t) for Student's t with ν > 0 degrees of freedom (any real t; ν may be fractional, as Welch's). */
export function studentTLogUpperTail(t: number, nu: number): number {
  if (!(nu > 0)) throw new RangeError(`studentTLogUpperTail: degrees of freedom must be > 0, got ${nu}`);
  if (Number.isNaN(t)) throw new RangeError('studentTLogUpperTail: t is NaN');
  if (t === Infinity) return -Infinity;
  if (t === -Infinity) return 0;
  // ν/(ν + t²) loses precision when t² ≫ ν; t²/(ν + t²) = 1 − x keeps it, so I is computed on whichever is small.
  const x = nu / (nu + t * t);
  const half = Math.log(0.5) + logIncompleteBeta(x, nu / 2, 0.5);
  return t >= 0 ? half : log1mExp(half);
}

/** P(T ≥ t) for Student's t with ν degrees of freedom. */
export function studentTUpperTail(t: number, nu: number): number {
  return Math.exp(studentTLogUpperTail(t, nu));
}

/** Welch's one-sided two-sample t-test of H1: mean(a) > mean(b). Needs ≥ 2 values per sample. */
export function welchTTest(a: readonly number[], b: readonly number[]): { t: number; df: number; log10p: number } {
  if (a.length < 2 || b.length < 2) throw new RangeError(`welchTTest: each sample needs at least 2 values, got ${a.length} and ${b.length}`);
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = (xs: readonly number[], m: number) => xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  const ma = mean(a);
  const mb = mean(b);
  const va = variance(a, ma) / a.length;
  const vb = variance(b, mb) / b.length;
  const se2 = va + vb;
  // No spread at all: the test is undefined; report no evidence rather than a division by zero.
  if (!(se2 > 0) || !Number.isFinite(se2)) return { t: NaN, df: NaN, log10p: 0 };
  const t = (ma - mb) / Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1));
  return { t, df, log10p: studentTLogUpperTail(t, df) / Math.LN10 };
}
