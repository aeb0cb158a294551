/**
 * The empirical-null p-value (DESIGN.md §3, `empirical` mode): the observed statistic is exchangeable with M
 * counterfactual ones under H0, so p = (1 + #{m : K'ₘ ≥ K}) / (M + 1) is exactly valid (P(p ≤ α) ≤ α).
 */

/**
 * p = (1 + r) / (M + 1), r = #{m : counterfactualₘ ≥ observed}, higher being stronger evidence (a hit count, a
 * log-likelihood). Ties count against the user, as they must; so does a NaN counterfactual (an unscorable one),
 * and a NaN observation is no evidence (p = 1).
 */
export function empiricalPValue(observed: number, counterfactuals: readonly number[]): number {
  if (Number.isNaN(observed)) return 1;
  let r = 0;
  for (const c of counterfactuals) if (!(c < observed)) r++;
  return (1 + r) / (counterfactuals.length + 1);
}

/** log10 of `empiricalPValue`. Its floor is −log10(M + 1). */
export function empiricalLog10P(observed: number, counterfactuals: readonly number[]): number {
  return Math.log10(empiricalPValue(observed, counterfactuals));
}
