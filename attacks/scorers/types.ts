/**
 * The row-scorer contract (DESIGN.md §5, attacks.md §2.2): a detector that gives every submitted training row
 * a suspicion score, higher = more suspicious. Policies (attacks/policies.ts) turn the flags into a training
 * plan; detection metrics (src/pipeline/detection-metrics.ts) grade the scores against the true backdoor mask.
 *
 * A scorer sees only what a provider sees (ProviderContext): the rows, its own random stream, the base model.
 */
import { z } from '../../src/plugins/define.js';
import type { AttackAccess, ProviderContext, Row, RowScores } from '../../src/types.js';

/** A suspected backdoor span: character offsets [start, end) inside one field of a row. */
export interface SuspectSpan {
  readonly field: 'prompt' | 'completion';
  readonly start: number;
  readonly end: number;
}

/**
 * How raw scores become flags. `top-fraction`: the ⌈q·N⌉ highest scores (ties broken by row order).
 * `robust-z`: (s − median) / (1.4826 · MAD) > z. `threshold`: s > t.
 */
export type FlagRule =
  | { readonly kind: 'top-fraction'; readonly q: number }
  | { readonly kind: 'robust-z'; readonly z: number }
  | { readonly kind: 'threshold'; readonly t: number };

/** The default rule: flag the top 1.5 % (1.5 × vTune's 0.5 % backdoor rate, attacks.md §2.2a). */
export const DEFAULT_FLAG_RULE: FlagRule = { kind: 'top-fraction', q: 0.015 };

/** A row detector. Implementations live in attacks/scorers/<id>.ts, one file each. */
export interface RowScorer {
  /** Registry id (kebab-case file name). */
  readonly id: string;
  /** What the scorer needs beyond the rows; checked against the provider before any work. */
  readonly access: readonly AttackAccess[];
  /** True when `score` returns `spans` (needed by strip-spans and lookup-wrapper). */
  readonly yieldsSpans: boolean;
  /**
   * Scores every row. `scores.length === flagged.length === rows.length`; `spans[i]` (when present) lists the
   * suspected trigger (field 'prompt') and signature (field 'completion') spans of row i. Must not mutate rows.
   */
  score(rows: readonly Row[], ctx: ProviderContext): Promise<RowScores>;
}

/** A scorer factory: validates its options (ConfigError naming the option) and returns a scorer. */
export type RowScorerFactory = (options?: Readonly<Record<string, unknown>>) => RowScorer;

/** The `flag` option every scorer takes: how its raw scores become flags (see FlagRule). */
export const flagRuleSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('top-fraction'), q: z.number().gt(0).lte(1) }),
    z.strictObject({ kind: z.literal('robust-z'), z: z.number() }),
    z.strictObject({ kind: z.literal('threshold'), t: z.number() }),
  ])
  .describe("how scores become flags: {kind: 'top-fraction', q} (the ⌈q·N⌉ highest), {kind: 'robust-z', z} or {kind: 'threshold', t}");

/** Applies a flag rule to raw scores (NaN scores are never flagged). */
export function flagByRule(scores: readonly number[], rule: FlagRule): boolean[] {
  const n = scores.length;
  if (rule.kind === 'threshold') return scores.map((s) => s > rule.t);
  if (rule.kind === 'robust-z') {
    const finite = scores.filter((s) => Number.isFinite(s));
    const med = median(finite);
    const mad = median(finite.map((s) => Math.abs(s - med))) * 1.4826;
    // A zero MAD (most rows identical) would make every deviation infinite: flag strictly-above-median rows only.
    return scores.map((s) => (mad > 0 ? (s - med) / mad > rule.z : s > med));
  }
  const k = Math.min(n, Math.ceil(rule.q * n));
  const order = scores
    .map((s, i) => ({ s: Number.isNaN(s) ? -Infinity : s, i }))
    .sort((a, b) => b.s - a.s || a.i - b.i);
  const flagged = new Array<boolean>(n).fill(false);
  for (let j = 0; j < k; j++) flagged[order[j]!.i] = true;
  return flagged;
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
