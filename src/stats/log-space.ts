/**
 * Log-space arithmetic shared by the exact tails. Probabilities here go down to 10^-10000 and beyond, far below
 * the smallest double (~5e-324), so every routine works with natural logarithms and never forms p itself.
 */

/** ln 10, to turn natural logs into log10 and back. */
export const LN10 = Math.LN10;

/** ln(e^a + e^b) without overflow or underflow; -Infinity is the log of zero. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** ln Σ e^{xᵢ}, scaled by the largest term so no term overflows and the small ones still count. */
export function logSumExp(xs: readonly number[]): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}

/** ln(1 − e^x) for x ≤ 0, accurate at both ends (Mächler's log1mexp). */
export function log1mExp(x: number): number {
  if (x > 0) throw new RangeError(`log1mExp: x must be ≤ 0, got ${x}`);
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

// ln n! with Neumaier-compensated running sums: a plain running sum drifts by ~√n·ε·ln n!, which at n = 10⁴
// would already cost ~1e-9 in log10; compensation keeps the table at ~ε·ln n!.
const lnFact: number[] = [0];
const lnFactComp: number[] = [0];

/** ln n! for a non-negative integer n (cached table, compensated summation). */
export function logFactorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`logFactorial: n must be a non-negative integer, got ${n}`);
  for (let i = lnFact.length; i <= n; i++) {
    const sum = lnFact[i - 1]!;
    const term = Math.log(i);
    const t = sum + term;
    const c = Math.abs(sum) >= Math.abs(term) ? sum - t + term : term - t + sum;
    lnFact[i] = t;
    lnFactComp[i] = lnFactComp[i - 1]! + c;
  }
  return lnFact[n]! + lnFactComp[n]!;
}

/** ln C(n, k). */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/** log10 of a probability given as a natural log. */
export function toLog10(ln: number): number {
  return ln / LN10;
}
