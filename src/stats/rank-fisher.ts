/**
 * Fisher's combination of independent discrete rank p-values (DESIGN.md §3, vtune `rank` null): each pᵢ is
 * uniform on {1, …, M+1}/(M+1) under H0 (a rank among M exchangeable counterfactuals, ties counted against:
 * `empiricalPValue`), and T = −Σ ln pᵢ. The χ²(2n) tail of 2T is valid for such pᵢ but conservative (measured: log10 p −18.95 where the
 * exact tail gives −30.00); here P(T' ≥ t) is computed exactly for the discrete pᵢ by convolving their
 * distribution on a grid of width h in ln p, every value rounded UP to the grid: T' can only grow, so the result
 * is an upper bound on the exact tail (a valid p-value), looser by at most the mass of T' in [t − n·h, t).
 */
import { chiSquareEvenLogSf } from './fisher.js';

/** Beyond this many log10 units of floor ((M+1)^−n), the grid's probabilities would underflow doubles. */
const MAX_FLOOR_LOG10 = 280;


/**
 * ln P(T' ≥ t), T' = Σⱼ −ln(Rⱼ/(M+1)) over n independent Rⱼ uniform on 1..M+1, as an upper bound (exact up to
 * the grid of width h, rounded towards larger T'). Falls back to the χ²(2n) tail (also valid, conservative)
 * when (M+1)^−n is too small for doubles.
 */
export function discreteFisherLogSf(t: number, n: number, m: number, h = 1e-3): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`discreteFisher: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`discreteFisher: M must be a positive integer, got ${m}`);
  if (!(h > 0)) throw new RangeError(`discreteFisher: grid width must be > 0, got ${h}`);
  if (Number.isNaN(t)) throw new RangeError('discreteFisher: T is NaN');
  if (t <= 0) return 0;
  if (n * Math.log10(m + 1) > MAX_FLOOR_LOG10) return chiSquareEvenLogSf(2 * t, n);
  // Bin counts of one −ln pⱼ, rounded up (the small relative epsilon keeps exact grid points, e.g. 0, on them).
  const counts = new Map<number, number>();
  for (let r = 1; r <= m + 1; r++) {
    const b = Math.ceil(Math.log((m + 1) / r) / h - 1e-9);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const bins = [...counts.entries()].map(([b, c]) => ({ b: Math.max(0, b), w: c / (m + 1) }));
  // T' ≥ t ⇔ bin sum ≥ threshold (bins are ≥ the true values, so using them only adds mass: an upper bound).
  // The slack covers the bins' own epsilon (n of them), so float rounding never drops a tuple with T' = t.
  const threshold = Math.ceil(t / h - (n + 1) * 1e-9);
  if (threshold <= 0) return 0;
  // Mass that has reached the threshold stays there (bins are ≥ 0): absorb it, so the array never exceeds it.
  let dist = new Float64Array(threshold);
  let absorbed = 0;
  dist[0] = 1;
  for (let j = 0; j < n; j++) {
    const next = new Float64Array(threshold);
    let reached = absorbed;
    for (let a = 0; a < dist.length; a++) {
      const pa = dist[a]!;
      if (pa === 0) continue;
      for (const { b, w } of bins) {
        const at = a + b;
        if (at >= threshold) reached += pa * w;
        else next[at]! += pa * w;
      }
    }
    dist = next;
    absorbed = reached;
  }
  return Math.min(0, Math.log(absorbed));
}

/** log10 of the combined p of rank p-values pᵢ (each a multiple of 1/(M+1)): exact discrete Fisher tail. */
export function rankFisherLog10(ps: readonly number[], m: number, h = 1e-3): number {
  if (ps.length === 0) throw new RangeError('rankFisher: needs at least one p-value');
  let t = 0;
  for (const p of ps) {
    if (!(p > 0 && p <= 1)) throw new RangeError(`rankFisher: p must be in (0, 1], got ${p}`);
    t -= Math.log(p);
  }
  return discreteFisherLogSf(t, ps.length, m, h) / Math.LN10;
}
