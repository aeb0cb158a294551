/** Exact rational references (BigInt) for the statistics tests: log10 of a ratio of huge integers. */

/** log10 of a positive BigInt, from its leading digits and its length. */
export function log10BigInt(x: bigint): number {
  if (x <= 0n) return -Infinity;
  const s = x.toString();
  const lead = s.slice(0, 17);
  return Math.log10(Number(lead)) + (s.length - lead.length);
}

/** Binomial coefficients C(n, 0..n) as BigInt. */
export function binomialRow(n: number): bigint[] {
  const row: bigint[] = [1n];
  for (let j = 0; j < n; j++) row.push((row[j]! * BigInt(n - j)) / BigInt(j + 1));
  return row;
}

/** b^0..b^n as BigInt. */
export function powers(b: bigint, n: number): bigint[] {
  const out: bigint[] = [1n];
  for (let j = 1; j <= n; j++) out.push(out[j - 1]! * b);
  return out;
}

/** Numerators of P(X = j), j = 0..n, for X ~ Bin(n, c/d); the common denominator is d^n. */
export function binomialPmfNumerators(n: number, c: bigint, d: bigint): bigint[] {
  const choose = binomialRow(n);
  const pc = powers(c, n);
  const pd = powers(d - c, n);
  return choose.map((ch, j) => ch * pc[j]! * pd[n - j]!);
}

/** Exact log10 P(X ≥ k) for X ~ Bin(n, c/d). */
export function exactBinomialLog10Sf(k: number, n: number, c: bigint, d: bigint): number {
  const pmf = binomialPmfNumerators(n, c, d);
  let num = 0n;
  for (let j = Math.max(0, k); j <= n; j++) num += pmf[j]!;
  return log10BigInt(num) - n * log10BigInt(d);
}

/** Exact log10 P(S ≥ k) for a Poisson-binomial with qᵢ = cᵢ/d, by the polynomial DP (small n only). */
export function exactPoissonBinomialLog10Sf(cs: readonly bigint[], d: bigint, k: number): number {
  let poly: bigint[] = [1n];
  for (const c of cs) {
    const next = new Array<bigint>(poly.length + 1).fill(0n);
    for (let j = 0; j < poly.length; j++) {
      next[j] = next[j]! + poly[j]! * (d - c);
      next[j + 1] = next[j + 1]! + poly[j]! * c;
    }
    poly = next;
  }
  let num = 0n;
  for (let j = Math.max(0, k); j < poly.length; j++) num += poly[j]!;
  return log10BigInt(num) - cs.length * log10BigInt(d);
}

/** Exact log10 P(X ≥ k) for each k in `ks`, X ~ Bin(n, c/d) (one pass of suffix sums; log10 only where asked). */
export function exactBinomialSfTable(n: number, c: bigint, d: bigint, ks: Iterable<number>): Map<number, number> {
  const want = new Set(ks);
  const pmf = binomialPmfNumerators(n, c, d);
  const logDen = n * log10BigInt(d);
  const out = new Map<number, number>();
  let num = 0n;
  for (let j = n; j >= 0; j--) {
    num += pmf[j]!;
    if (want.has(j)) out.set(j, log10BigInt(num) - logDen);
  }
  return out;
}
