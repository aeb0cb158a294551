/**
 * Exact upper tail of the Poisson-binomial distribution (a sum of independent Bernoulli(qᵢ) with different qᵢ),
 * the null distribution of the vTune hit count K (DESIGN.md §3). The qᵢ come in as log10 so that bounds far
 * below the smallest double (e.g. 5625^-100) stay exact.
 *
 * Method: the O(n·m) dynamic programme over ln P(S = j), with the states beyond the threshold lumped into one
 * absorbing state, so m = min(k, n − k + 1) + 1. It sums probabilities only (never 1 − cdf), in log space.
 */
import { LN10, log1mExp, logAddExp } from './log-space.js';

/** ln P(S ≥ k) for S = Σ Bernoulli(qᵢ), with qᵢ = 10^log10q[i]. */
export function poissonBinomialLogSf(log10q: readonly number[], k: number): number {
  if (!Number.isInteger(k)) throw new RangeError(`poissonBinomial: k must be an integer, got ${k}`);
  const n = log10q.length;
  const lnQ = new Float64Array(n);
  const ln1mQ = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const l = log10q[i]!;
    if (!(l <= 0) || Number.isNaN(l)) throw new RangeError(`poissonBinomial: log10 q[${i}] must be ≤ 0, got ${l}`);
    lnQ[i] = l * LN10;
    ln1mQ[i] = l === 0 ? -Infinity : log1mExp(l * LN10);
  }
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  // Track whichever count needs fewer states: successes up to k (tail = the absorbing state), or failures up
  // to n − k + 1 (tail = everything not absorbed). Both are exact.
  // logAddExp rounding can leave a total of 1 a few ulps above 0 in log; a probability's log is ≤ 0.
  if (k <= n - k + 1) return Math.min(0, absorbingTail(lnQ, ln1mQ, k, true));
  return Math.min(0, absorbingTail(ln1mQ, lnQ, n - k + 1, false));
}

/**
 * Runs the DP counting "events" (probability e^{lnE[i]}) with states 0..m−1 and one absorbing state m (≥ m
 * events). Returns ln P(absorbed) when `wantAbsorbed`, else ln P(not absorbed).
 */
function absorbingTail(lnE: Float64Array, ln1mE: Float64Array, m: number, wantAbsorbed: boolean): number {
  const n = lnE.length;
  const a = new Float64Array(m + 1).fill(-Infinity);
  a[0] = 0;
  let reach = 0; // highest state with non-zero probability so far
  for (let i = 0; i < n; i++) {
    const le = lnE[i]!;
    const l1 = ln1mE[i]!;
    const top = Math.min(m, reach + 1);
    // The absorbing state keeps its mass and gains from state m−1.
    if (top === m) a[m] = logAddExp(a[m]!, a[m - 1]! + le);
    for (let j = Math.min(top, m - 1); j >= 1; j--) a[j] = logAddExp(a[j]! + l1, a[j - 1]! + le);
    a[0] = a[0]! + l1;
    reach = top;
  }
  if (wantAbsorbed) return a[m]!;
  let acc = -Infinity;
  for (let j = 0; j < m; j++) acc = logAddExp(acc, a[j]!);
  return acc;
}

/** log10 P(S ≥ k) for S = Σ Bernoulli(10^log10q[i]). */
export function poissonBinomialLog10Sf(log10q: readonly number[], k: number): number {
  return poissonBinomialLogSf(log10q, k) / LN10;
}
