/**
 * The ranking test of cue-reply (defenses/cue-reply/README.md): how well a generated text matches a reply,
 * the planted reply's conservative rank among counterfactual replies, and the exact lower tail of a sum of
 * independent uniform ranks, in log space.
 */
import { LN10 } from '../../src/stats/index.js';

/** The words of a text: split on whitespace, empty pieces dropped. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/**
 * The score of a candidate reply against an output: how many of the reply's leading words the output
 * starts with (exact word equality, leading whitespace ignored), from 0 to the reply's word count.
 */
export function matchLength(output: readonly string[], reply: readonly string[]): number {
  let i = 0;
  while (i < reply.length && i < output.length && output[i] === reply[i]) i++;
  return i;
}

/**
 * The planted reply's rank among M counterfactuals, ties counted AGAINST it: 1 + #{m : score_m ≥ planted}.
 * Under H0 the planted reply is exchangeable with the counterfactuals, so with ties broken at random its rank
 * would be uniform on 1…M+1; counting ties against it only makes the rank larger, hence P(rank ≤ r) ≤ r/(M+1).
 */
export function conservativeRank(planted: number, counterfactuals: readonly number[]): number {
  let rank = 1;
  for (const s of counterfactuals) if (s >= planted) rank++;
  return rank;
}

/**
 * log10 P(U₁ + … + Uₙ ≤ t) for independent Uᵢ uniform on {1, …, K}, computed exactly by convolution (prefix
 * sums over the lower tail only, rescaled after every step so nothing underflows). O(n · t).
 */
export function rankSumLog10Cdf(t: number, n: number, K: number): number {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(K) || K < 1) throw new RangeError(`rankSumLog10Cdf: n and K must be positive integers, got n=${n}, K=${K}`);
  if (t < n) return -Infinity;
  if (t >= n * K) return 0;
  // Vᵢ = Uᵢ − 1 ∈ {0, …, K−1}; P(ΣV ≤ T) with T = t − n.
  const T = Math.floor(t) - n;
  let dp = new Float64Array(T + 1);
  dp[0] = 1;
  let logScale = 0;
  const prefix = new Float64Array(T + 2);
  for (let i = 0; i < n; i++) {
    prefix[0] = 0;
    for (let s = 0; s <= T; s++) prefix[s + 1] = prefix[s]! + dp[s]!;
    const next = new Float64Array(T + 1);
    let max = 0;
    for (let s = 0; s <= T; s++) {
      const v = (prefix[s + 1]! - prefix[Math.max(0, s - K + 1)]!) / K;
      next[s] = v;
      if (v > max) max = v;
    }
    for (let s = 0; s <= T; s++) next[s]! /= max;
    logScale += Math.log(max);
    dp = next;
  }
  let sum = 0;
  for (let s = 0; s <= T; s++) sum += dp[s]!;
  return Math.min(0, (Math.log(sum) + logScale) / LN10);
}
