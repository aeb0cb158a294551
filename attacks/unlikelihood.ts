/**
 * unlikelihood — adversarial suppression training (attacks.md §2.4d; unlikelihood training, Welleck et al.
 * 2020). Threat model B, the evasive provider: it trains honestly on every row, but where its detector
 * suspects a signature it puts a NEGATIVE per-token weight on those completion tokens, so the model learns the
 * rows' surrounding content while being pushed away from emitting the suspected signature given its trigger.
 * Unlike dropping rows, nothing is removed from training. Goal: evade.
 *
 * Needs a span-yielding scorer for precise suppression; flagged rows without completion spans get the negative
 * weight on their whole completion (`fallback: 'whole-completion'`) or are trained normally (`'none'`).
 * Deviation: the trainer's negative-weight NLL (gradient ascent on log p) stands in for the bounded
 * unlikelihood loss −log(1 − p); `weight` sets its strength.
 */
import type { RowScores, TrainExample, TrainingPlan } from '../src/types.js';
import type { BenchAttack } from './compose.js';
import { checkOptionNames, mergeAccess, resolveScorer, scoreRows, suspectedCompletionSpans } from './compose.js';
import { num, oneOf } from './scorers/lib/options.js';

const ID = 'unlikelihood';

/** Creates the attack. Options: `scorer` (default 'perplexity'), `scorerOptions`, `weight` (> 0, default 1), `fallback`. */
export function unlikelihood(options: Readonly<Record<string, unknown>> = {}): BenchAttack {
  checkOptionNames(ID, options, ['scorer', 'scorerOptions', 'weight', 'fallback']);
  const p = `attack '${ID}'`;
  const weight = num(p, 'weight', options.weight, 1, { min: 0, exclusiveMin: true });
  const fallback = oneOf(p, 'fallback', options.fallback, ['whole-completion', 'none'] as const, 'whole-completion');
  const scorer = resolveScorer(options.scorer ?? 'perplexity', options.scorerOptions, ID);
  return {
    id: ID,
    goal: 'evade',
    oracle: false,
    trains: true,
    access: mergeAccess(scorer.access),
    scorer: scorer.id,
    async onData(plan, ctx) {
      const detection = await scoreRows(scorer, plan, ctx);
      return { rows: suppressSpans(plan.rows, detection, -weight, fallback), hyper: plan.hyper, detection };
    },
  };
}

/**
 * Training examples with `negativeWeight` on the suspected completion spans of flagged rows (existing span
 * weights elsewhere are kept). Rows are copied, never mutated.
 */
export function suppressSpans(rows: TrainingPlan['rows'], detection: RowScores, negativeWeight: number, fallback: 'whole-completion' | 'none'): TrainExample[] {
  return rows.map((row, i): TrainExample => {
    if (!detection.flagged[i]) return { ...row };
    const spans = suspectedCompletionSpans(detection, i);
    if (spans.length === 0) return fallback === 'whole-completion' ? { ...row, weight: negativeWeight, spans: [] } : { ...row };
    const kept = (row.spans ?? []).filter((old) => spans.every((s) => old.end <= s.start || old.start >= s.end));
    return { ...row, spans: [...kept, ...spans.map((s) => ({ start: s.start, end: s.end, weight: negativeWeight }))] };
  });
}
