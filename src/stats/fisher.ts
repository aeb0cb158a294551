/**
 * Fisher's method for combining independent p-values: X = −2 Σ ln pᵢ ~ χ²(2k) under H0, and for even degrees
 * of freedom the tail is exact and finite: P(χ²₂ₖ ≥ x) = e^{−x/2} Σ_{j<k} (x/2)^j / j!. Inputs and output are
 * log10 p, so p-values of 10^-10000 combine without underflow.
 */
import { LN10, logFactorial } from './log-space.js';

/** ln P(χ²(2k) ≥ x), exact (a finite Poisson sum), summed in log space from its largest term. */
export function chiSquareEvenLogSf(x: number, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`chiSquare: k (half the degrees of freedom) must be a positive integer, got ${k}`);
  if (!(x >= 0)) throw new RangeError(`chiSquare: x must be ≥ 0, got ${x}`);
  if (x === 0) return 0;
  // The tail at ∞ is 0 (a p-value of 0, or −2 Σ ln p beyond the largest double); the sum below would give NaN.
  if (x === Infinity) return -Infinity;
  const h = x / 2;
  const lnH = Math.log(h);
  const terms = new Float64Array(k);
  let max = -Infinity;
  for (let j = 0; j < k; j++) {
    terms[j] = j * lnH - logFactorial(j);
    if (terms[j]! > max) max = terms[j]!;
  }
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(terms[j]! - max);
  // At x ≈ 0 the rounded sum can exceed e^{x/2}; the tail is a probability, so its log is ≤ 0.
  return Math.min(0, -h + max + Math.log(s));
}

/** log10 of Fisher's combined p-value of independent tests given their log10 p-values. */
export function fisherCombineLog10(log10ps: readonly number[]): number {
  if (log10ps.length === 0) throw new RangeError('fisherCombine: needs at least one p-value');
  let sumLn = 0;
  for (const l of log10ps) {
    if (!(l <= 0)) throw new RangeError(`fisherCombine: log10 p must be ≤ 0, got ${l}`);
    sumLn += l * LN10;
  }
  return chiSquareEvenLogSf(-2 * sumLn, log10ps.length) / LN10;
}
