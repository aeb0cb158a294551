/**
 * Binomial bounds for validity tests that vary the secret: under a valid test, the number of trials with
 * p ≤ α among n independent fresh secrets is at most Binomial(n, α). The bounds below are exceeded with
 * probability ≤ `tail` when that holds (exact tails from src/stats).
 */
import { binomialLogCdf, binomialLogSf } from '../../src/stats/index.js';

/** The smallest c with P(X > c) ≤ tail for X ~ Bin(n, q): a count above c is evidence against validity. */
export function upperBound(n: number, q: number, tail = 1e-3): number {
  let c = 0;
  while (c < n && binomialLogSf(c + 1, n, q) > Math.log(tail)) c++;
  return c;
}

/** The largest c with P(X < c) ≤ tail for X ~ Bin(n, q): a count below c means the p-values are not spread as a valid p-value's are. */
export function lowerBound(n: number, q: number, tail = 1e-3): number {
  let c = n;
  while (c > 0 && binomialLogCdf(c - 1, n, q) > Math.log(tail)) c--;
  return c;
}
