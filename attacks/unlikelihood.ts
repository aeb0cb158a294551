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
import { defineAttack, z } from '../src/plugins/define.js';
import type { BenchAttack } from './compose.js';
import { mergeAccess, scoreRows, suspectedCompletionSpans } from './compose.js';
import { resolveScorer, scorerOption, scorerOptionsOption, scorerRules } from './options.js';

const ID = 'unlikelihood';

const OPTIONS = z
  .object({
    scorer: scorerOption().default('perplexity'),
    scorerOptions: scorerOptionsOption(),
    weight: z.number().gt(0).default(1).describe('strength of the negative weight on suspected signature tokens'),
    fallback: z
      .enum(['whole-completion', 'none'])
      .default('whole-completion')
      .describe("flagged rows without completion spans: negative weight on the whole completion, or trained normally ('none')"),
  })
  .superRefine(...scorerRules());

/** The attack. Options: `scorer` (default 'perplexity'), `scorerOptions`, `weight` (> 0, default 1), `fallback`. */
export const unlikelihood = defineAttack({
  id: ID,
  description: 'trains every row but puts a negative weight on the signature tokens its detector suspects',
  citation: 'Welleck et al., "Neural Text Generation with Unlikelihood Training", ICLR 2020; attacks.md §2.4d',
  goal: 'evade',
  access: ['data'],
  options: OPTIONS,
  create,
});

/** Creates the attack from validated options. */
function create(o: z.output<typeof OPTIONS>): BenchAttack {
  const { weight, fallback } = o;
  const scorer = resolveScorer(o.scorer, o.scorerOptions);
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
