/**
 * Type-I error from calibration records (DESIGN.md §3 "Validity is measured, not assumed"): per (generator
 * configuration × null model × null mode), the number of null trials, how many reached p ≤ α, the measured
 * rate with its 95% Clopper-Pearson interval, the α + 3σ line (σ = √(α(1−α)/n), the binomial spread of a
 * valid test's count) and, for small α, the 99th percentile of Binomial(n, α): a valid mode's count exceeds it
 * with probability ≤ 1%. Pure functions of the records.
 */
import { binomialLogCdf, clopperPearson } from '../stats/index.js';
import type { CalibrationRecord, NullModelKind } from './records.js';

/** The significance levels tabulated by default. */
export const DEFAULT_ALPHAS: readonly number[] = [0.1, 0.05, 0.01, 1e-3];

/** Null modes the project documents as anti-conservative (printed with their inflation, never hidden). */
export const ANTI_CONSERVATIVE_MODES: readonly string[] = ['base-model'];

/** p ≤ α on the log scale, with the same rounding tolerance as verification (defenses/vtune/verify.ts). */
export function reaches(log10p: number, alpha: number): boolean {
  return log10p <= Math.log10(alpha) + 1e-12;
}

/** The smallest c with P(X ≤ c) ≥ q for X ~ Binomial(n, p). */
export function binomialQuantile(n: number, p: number, q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`binomialQuantile: q must be in (0, 1), got ${q}`);
  const lnQ = Math.log(q);
  for (let c = 0; c < n; c++) if (binomialLogCdf(c, n, p) >= lnQ) return c;
  return n;
}

/** One α of one row. */
export interface AlphaCell {
  readonly alpha: number;
  /** Trials with p ≤ α, and trials. */
  readonly k: number;
  readonly n: number;
  /** Measured Type-I and its 95% Clopper-Pearson interval (NaN rate when n = 0). */
  readonly rate: number;
  readonly lower: number;
  readonly upper: number;
  /** α + 3σ with σ = √(α(1 − α)/n). */
  readonly threeSigma: number;
  readonly withinThreeSigma: boolean;
  /** 99th percentile of Binomial(n, α) and whether k ≤ it (computed for α ≤ 0.01, where 3σ is too coarse). */
  readonly binomial99?: number;
  readonly withinBinomial99?: boolean;
  /** measured / α. */
  readonly inflation: number;
}

/** One (generator configuration × null model × null mode). */
export interface TypeIRow {
  readonly generator: string;
  readonly generatorId: string;
  readonly count: number;
  readonly nullModel: string;
  readonly nullModelKind: NullModelKind;
  readonly nullMode: string;
  readonly trials: number;
  readonly cells: readonly AlphaCell[];
  /** Documented as anti-conservative (the paper's base-model null). */
  readonly antiConservative: boolean;
  /** Every α within α + 3σ and (α ≤ 0.01) within the binomial 99th percentile. */
  readonly consistentWithValid: boolean;
}

/** The cell of one α from k of n. */
export function alphaCell(alpha: number, k: number, n: number): AlphaCell {
  const ci = clopperPearson(k, n, 0.95);
  const rate = n === 0 ? NaN : k / n;
  const threeSigma = n === 0 ? NaN : alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / n);
  const b99 = alpha <= 0.01 && n > 0 ? binomialQuantile(n, alpha, 0.99) : undefined;
  return {
    alpha,
    k,
    n,
    rate,
    lower: ci.lower,
    upper: ci.upper,
    threeSigma,
    withinThreeSigma: n > 0 && rate <= threeSigma,
    ...(b99 !== undefined ? { binomial99: b99, withinBinomial99: k <= b99 } : {}),
    inflation: rate / alpha,
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The Type-I table: one row per (generator configuration, count, null model, null mode), sorted. */
export function typeIRows(records: readonly CalibrationRecord[], alphas: readonly number[] = DEFAULT_ALPHAS): TypeIRow[] {
  const groups = new Map<string, { r: CalibrationRecord; mode: string; log10p: number[] }>();
  for (const r of records) {
    for (const [mode, log10p] of Object.entries(r.log10pByNullMode)) {
      const key = JSON.stringify([r.generator.label, r.count, r.nullModel, mode]);
      const g = groups.get(key) ?? { r, mode, log10p: [] };
      g.log10p.push(log10p);
      groups.set(key, g);
    }
  }
  const rows = [...groups.values()].map(({ r, mode, log10p }): TypeIRow => {
    const cells = alphas.map((a) => alphaCell(a, log10p.filter((x) => reaches(x, a)).length, log10p.length));
    return {
      generator: r.generator.label,
      generatorId: r.generator.id,
      count: r.count,
      nullModel: r.nullModel,
      nullModelKind: r.nullModelKind,
      nullMode: mode,
      trials: log10p.length,
      cells,
      antiConservative: ANTI_CONSERVATIVE_MODES.includes(mode),
      consistentWithValid: cells.every((c) => c.withinThreeSigma && c.withinBinomial99 !== false),
    };
  });
  return rows.sort((a, b) => cmp(a.generator, b.generator) || a.count - b.count || cmp(a.nullModelKind, b.nullModelKind) || cmp(a.nullModel, b.nullModel) || cmp(a.nullMode, b.nullMode));
}

/** One point of a calibration curve: the share of null p-values ≤ p. */
export interface CalibrationPoint {
  readonly generator: string;
  readonly nullModel: string;
  readonly nullMode: string;
  readonly p: number;
  readonly ecdf: number;
}

/**
 * Empirical CDF of the null p-values per (generator, null model, null mode), thinned to at most `maxPoints`
 * points per curve (log-spaced ranks keep the small-p tail, where validity is decided). A valid mode's curve
 * stays on or below the diagonal. With `from`, each curve starts with the share of p ≤ from at p = from and
 * ends at (1, 1), so a curve whose p-values are all 1 is still drawn (flat at 0 until 1).
 */
export function calibrationCurves(records: readonly CalibrationRecord[], maxPoints = 160, from?: number): CalibrationPoint[] {
  const groups = new Map<string, { generator: string; nullModel: string; nullMode: string; ps: number[] }>();
  for (const r of records) {
    for (const [mode, log10p] of Object.entries(r.log10pByNullMode)) {
      const key = JSON.stringify([r.generator.label, r.nullModel, mode]);
      const g = groups.get(key) ?? { generator: r.generator.label, nullModel: r.nullModel, nullMode: mode, ps: [] };
      g.ps.push(10 ** log10p);
      groups.set(key, g);
    }
  }
  const out: CalibrationPoint[] = [];
  for (const g of [...groups.values()].sort((a, b) => cmp(a.generator, b.generator) || cmp(a.nullModel, b.nullModel) || cmp(a.nullMode, b.nullMode))) {
    const ps = g.ps.sort((a, b) => a - b);
    const n = ps.length;
    // A curve starts at `from` (the share of p ≤ from) and ends at p = 1, where every p-value is.
    if (from !== undefined) out.push({ generator: g.generator, nullModel: g.nullModel, nullMode: g.nullMode, p: from, ecdf: ps.filter((p) => p <= from).length / n });
    // Ranks 1…n, log-spaced; the last index of a run of ties carries the ECDF value.
    const ranks = new Set<number>();
    for (let j = 0; j < maxPoints; j++) ranks.add(Math.min(n, Math.max(1, Math.round(Math.exp((Math.log(n) * j) / Math.max(1, maxPoints - 1))))));
    for (const rank of [...ranks].sort((a, b) => a - b)) {
      let i = rank - 1;
      while (i + 1 < n && ps[i + 1] === ps[i]) i++;
      if (from === undefined || ps[i]! > from) out.push({ generator: g.generator, nullModel: g.nullModel, nullMode: g.nullMode, p: ps[i]!, ecdf: (i + 1) / n });
    }
    if (from !== undefined && ps[n - 1]! < 1) out.push({ generator: g.generator, nullModel: g.nullModel, nullMode: g.nullMode, p: 1, ecdf: 1 });
  }
  // Ties make several ranks land on one point: keep each once.
  return out.filter((pt, i) => i === 0 || JSON.stringify(pt) !== JSON.stringify(out[i - 1]));
}
