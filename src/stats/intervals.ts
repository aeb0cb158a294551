/**
 * Confidence intervals for a binomial rate: Clopper-Pearson (exact, by inverting the exact binomial tails) and
 * Wilson (score interval). Every reported rate carries one (DESIGN.md §2).
 */
import { binomialLogCdf, binomialLogSf } from './binomial.js';

/** A two-sided interval for a rate k/n. */
export interface RateInterval {
  readonly lower: number;
  readonly upper: number;
}

function checkCounts(k: number, n: number, confidence: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`interval: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`interval: k must be an integer in [0, ${n}], got ${k}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`interval: confidence must be in (0, 1), got ${confidence}`);
}

/** Solves f(p) = target for a monotone f on [0, 1] by bisection, to ~1e-15 relative precision (small bounds too). */
function bisect(f: (p: number) => number, target: number, increasing: boolean): number {
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 1100 && hi - lo > 1e-15 * hi; it++) {
    const mid = (lo + hi) / 2;
    const above = f(mid) > target;
    if (above === increasing) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The exact Clopper-Pearson interval: lower = the p at which P(X ≥ k) = (1−c)/2, upper = the p at which
 * P(X ≤ k) = (1−c)/2. Guaranteed coverage ≥ confidence. n = 0 gives [0, 1].
 */
export function clopperPearson(k: number, n: number, confidence = 0.95): RateInterval {
  checkCounts(k, n, confidence);
  const lnHalfAlpha = Math.log((1 - confidence) / 2);
  const lower = k === 0 ? 0 : bisect((p) => binomialLogSf(k, n, p), lnHalfAlpha, true);
  const upper = k === n ? 1 : bisect((p) => binomialLogCdf(k, n, p), lnHalfAlpha, false);
  return { lower, upper };
}

/** The Wilson score interval. n = 0 gives [0, 1]. */
export function wilson(k: number, n: number, confidence = 0.95): RateInterval {
  checkCounts(k, n, confidence);
  if (n === 0) return { lower: 0, upper: 1 };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const centre = (k + z2 / 2) / (n + z2);
  const half = (z / (n + z2)) * Math.sqrt((k * (n - k)) / n + z2 / 4);
  // k = 0 and k = n are exactly 0 and 1 in closed form; the subtraction above only rounds near them.
  return { lower: k === 0 ? 0 : Math.max(0, centre - half), upper: k === n ? 1 : Math.min(1, centre + half) };
}

/** ln P(Z ≥ x) for a standard normal Z, x ≥ 0. */
export function normalLogUpperTail(x: number): number {
  if (x < 0) throw new RangeError(`normalLogUpperTail: x must be ≥ 0, got ${x}`);
  const t = x / Math.SQRT2;
  if (t < 3) {
    // erf(t) = 2/√π · e^{-t²} · Σ 2ⁿ t^{2n+1} / (1·3·…·(2n+1)): all terms positive, no cancellation.
    let term = t;
    let sum = t;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * t * t) / (2 * n + 1);
      sum += term;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-t * t) * sum;
    return Math.log((1 - erf) / 2);
  }
  // erfc(t) = e^{-t²}/√π · 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + …)))), evaluated bottom-up (converges fast for t ≥ 3).
  let f = t;
  for (let n = 60; n >= 1; n--) f = t + n / 2 / f;
  return -t * t - 0.5 * Math.log(Math.PI) - Math.log(f) - Math.LN2;
}

/** The standard normal quantile Φ⁻¹(u), by bisection on the exact upper tail. */
export function normalQuantile(u: number): number {
  if (!(u > 0 && u < 1)) throw new RangeError(`normalQuantile: u must be in (0, 1), got ${u}`);
  if (u === 0.5) return 0;
  const upper = u > 0.5;
  const lnTail = Math.log(upper ? 1 - u : u);
  let lo = 0;
  let hi = 40;
  for (let it = 0; it < 200 && hi - lo > 1e-15; it++) {
    const mid = (lo + hi) / 2;
    if (normalLogUpperTail(mid) > lnTail) lo = mid;
    else hi = mid;
  }
  const z = (lo + hi) / 2;
  return upper ? z : -z;
}
