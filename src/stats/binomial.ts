/**
 * Exact binomial tails in log space. The upper tail is always summed directly (from the largest term outwards),
 * never as 1 − cdf, so it stays exact from p ≈ 1 down to 10^-10000 and beyond.
 */
import { LN10, logChoose } from './log-space.js';

/** A success probability in log form, so p may be far below the smallest double. */
interface LogProb {
  readonly lnP: number;
  readonly ln1mP: number;
}

function checkN(n: number, k: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new RangeError(`binomial: k must be an integer, got ${k}`);
}

function logProb(p: number): LogProb {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial: p must be in [0, 1], got ${p}`);
  return { lnP: Math.log(p), ln1mP: Math.log1p(-p) };
}

/** ln P(X = k) for X ~ Bin(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  checkN(n, k);
  return logPmf(k, n, logProb(p));
}

function logPmf(k: number, n: number, q: LogProb): number {
  if (k < 0 || k > n) return -Infinity;
  // 0·ln 0 = 0: the p ∈ {0, 1} edge cases must not produce NaN.
  const a = k === 0 ? 0 : k * q.lnP;
  const b = n - k === 0 ? 0 : (n - k) * q.ln1mP;
  return logChoose(n, k) + a + b;
}

/**
 * ln Σ_{j=k}^{n} P(X = j): the pmf is log-concave, so terms fall monotonically away from the mode; we start at
 * the largest term of the range and stop once terms are below e^-60 of it (beyond double precision).
 */
function logUpperTail(k: number, n: number, q: LogProb): number {
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  if (q.lnP === -Infinity) return -Infinity;
  if (q.ln1mP === -Infinity) return 0;
  const p = Math.exp(q.lnP);
  const mode = Math.min(n, Math.max(0, Math.floor((n + 1) * p)));
  const start = Math.max(k, mode);
  const top = logPmf(start, n, q);
  let s = 0;
  for (let j = start; j <= n; j++) {
    const r = logPmf(j, n, q) - top;
    s += Math.exp(r);
    if (r < -60) break;
  }
  for (let j = start - 1; j >= k; j--) {
    const r = logPmf(j, n, q) - top;
    s += Math.exp(r);
    if (r < -60) break;
  }
  // Rounding can push the sum of terms a few ulps past 1 when k ≤ mode; a probability's log is ≤ 0.
  return Math.min(0, top + Math.log(s));
}

/** ln P(X ≥ k) for X ~ Bin(n, p), summed directly in log space. */
export function binomialLogSf(k: number, n: number, p: number): number {
  checkN(n, k);
  return logUpperTail(k, n, logProb(p));
}

/** ln P(X ≤ k) for X ~ Bin(n, p): the upper tail of the failures, with ln p and ln(1−p) swapped exactly. */
export function binomialLogCdf(k: number, n: number, p: number): number {
  checkN(n, k);
  const q = logProb(p);
  return logUpperTail(n - k, n, { lnP: q.ln1mP, ln1mP: q.lnP });
}

/** log10 P(X ≥ k) for X ~ Bin(n, p). */
export function binomialLog10Sf(k: number, n: number, p: number): number {
  return binomialLogSf(k, n, p) / LN10;
}
