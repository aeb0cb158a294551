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
// would already cost ~1e-9 in log10; compensation keeps the table at ~ε·ln n!. Beyond TABLE_MAX (8 MB per
// array) we switch to Stirling's series, whose truncation error there is below 1e-40.
const TABLE_MAX = 1 << 20;
const lnFact: number[] = [0];
const lnFactComp: number[] = [0];

/** The Stirling series correction ln x! − (x ln x − x + ½ ln 2πx), for x ≥ 1000 (error < 1/(1680 x⁷)). */
function stirlingCorrection(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  return inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/** ln n! for a non-negative integer n (compensated table up to 2^20, Stirling's series beyond). */
export function logFactorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`logFactorial: n must be a non-negative integer, got ${n}`);
  if (n > TABLE_MAX) return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + stirlingCorrection(n);
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

/**
 * ln C(n, k). Beyond the table, ln n! − ln m! (m = n − j, j = min(k, n − k)) is taken as the difference of the
 * Stirling series written so that nothing of size n ln n cancels: j ln n − m ln(1 − j/n) − j + ½ ln(n/m) + …
 */
export function logChoose(n: number, k: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (n <= TABLE_MAX) return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
  const j = Math.min(k, n - k);
  const m = n - j;
  const diff = j * Math.log(n) - m * Math.log1p(-j / n) - j + 0.5 * Math.log(n / m) + stirlingCorrection(n) - stirlingCorrection(m);
  return diff - logFactorial(j);
}

/** log10 of a probability given as a natural log. */
export function toLog10(ln: number): number {
  return ln / LN10;
}
